// Package e2e drives appfactory in a real Chromium through playwright-go,
// against a real `appfactory serve` on a free port with a fresh data dir.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/store"
)

// driverVersion is the playwright-core version that playwright-go expects;
// package.json pins the same.
const driverVersion = "1.64.1"

var (
	root    string // the repository
	pw      *playwright.Playwright
	browser playwright.Browser
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	if err := buildBinary(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build appfactory:", err)
		return 1
	}
	dir, err := assembleDriver()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: playwright driver:", err)
		return 1
	}
	pw, err = playwright.Run(&playwright.RunOptions{DriverDirectory: dir, SkipInstallBrowsers: true, Verbose: false})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start playwright:", err)
		return 1
	}
	defer pw.Stop()
	browser, err = pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String("/usr/bin/chromium"),
		Headless:       playwright.Bool(true),
		Args: []string{"--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: launch chromium:", err)
		return 1
	}
	defer browser.Close()
	return m.Run()
}

// buildBinary builds bin/appfactory from the tree under test, so the suite
// never runs a stale binary (make build has made the vendor files and images).
func buildBinary() error {
	cmd := exec.Command("go", "build", "-o", filepath.Join(root, "bin", "appfactory"), ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// assembleDriver lays out the driver directory playwright-go expects: the
// machine's node and npm's playwright-core (nothing is downloaded).
func assembleDriver() (string, error) {
	pkg := filepath.Join(root, "node_modules", "playwright-core")
	if _, err := os.Stat(filepath.Join(pkg, "cli.js")); err != nil {
		return "", fmt.Errorf("playwright-core is not installed (run make setup): %w", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node not found: %w", err)
	}
	dir := filepath.Join(root, "e2e", ".driver", driverVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, target := range map[string]string{"node": node, "package": pkg} {
		link := filepath.Join(dir, name)
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// Server is an `appfactory serve` process of one test.
type Server struct {
	URL     string // http://localhost:PORT
	Port    int
	DataDir string
	Log     string
}

// TenantURL is the address of a tenant by slug.
func (s *Server) TenantURL(slug string) string {
	return fmt.Sprintf("http://%s.localhost:%d/", slug, s.Port)
}

// startServer runs appfactory on a free port with a fresh data directory
// and stops it (and removes the tenants' Docker objects) when the test ends.
func startServer(t *testing.T, extra ...string) *Server {
	t.Helper()
	data := t.TempDir()
	port := freePort(t)
	s := &Server{URL: fmt.Sprintf("http://localhost:%d", port), Port: port, DataDir: data, Log: filepath.Join(data, "serve.log")}
	logf, err := os.Create(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", data, "--domain", "localhost"}, extra...)
	cmd := exec.Command(filepath.Join(root, "bin", "appfactory"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		removeTenantObjects(t, data)
		if t.Failed() {
			b, _ := os.ReadFile(s.Log)
			t.Logf("server log (last lines):\n%s", tail(string(b), 40))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(s.URL + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(s.Log)
	t.Fatalf("appfactory did not answer /healthz: %s", tail(string(b), 20))
	return nil
}

// runCLI runs an appfactory subcommand against a server's data directory.
func runCLI(t *testing.T, s *Server, args ...string) string {
	t.Helper()
	args = append(args, "--data-dir", s.DataDir)
	out, err := exec.Command(filepath.Join(root, "bin", "appfactory"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("appfactory %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// removeTenantObjects removes every Docker object labelled for this data
// directory's instance, even when the server did not.
func removeTenantObjects(t *testing.T, data string) {
	t.Helper()
	db, err := store.Open(context.Background(), data)
	if err != nil {
		t.Logf("cleanup: open store: %v", err)
		return
	}
	id, err := db.InstanceID(context.Background())
	db.Close()
	if err != nil || id == "" {
		return
	}
	label := "label=appfactory.instance=" + id
	sh := func(args ...string) string {
		out, _ := exec.Command("docker", args...).Output()
		return strings.TrimSpace(string(out))
	}
	if ids := sh("ps", "-aq", "--filter", label); ids != "" {
		exec.Command("docker", append([]string{"rm", "-f"}, strings.Fields(ids)...)...).Run()
	}
	if ids := sh("network", "ls", "-q", "--filter", label); ids != "" {
		exec.Command("docker", append([]string{"network", "rm"}, strings.Fields(ids)...)...).Run()
	}
	if ids := sh("volume", "ls", "-q", "--filter", label); ids != "" {
		exec.Command("docker", append([]string{"volume", "rm", "-f"}, strings.Fields(ids)...)...).Run()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newPage opens a fresh browser context and page; when the test fails, a
// screenshot and the page's HTML are saved under e2e/artifacts/ and named.
func newPage(t *testing.T) playwright.Page {
	t.Helper()
	bctx, err := browser.NewContext(playwright.BrowserNewContextOptions{
		Viewport: &playwright.Size{Width: 1280, Height: 900},
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := bctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	page.SetDefaultTimeout(15000)
	t.Cleanup(func() {
		if t.Failed() {
			saveArtifacts(t, page)
		}
		bctx.Close()
	})
	return page
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func saveArtifacts(t *testing.T, page playwright.Page) {
	t.Helper()
	dir := filepath.Join(root, "e2e", "artifacts")
	os.MkdirAll(dir, 0o755)
	base := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_"))
	if _, err := page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(base + ".png"), FullPage: playwright.Bool(true)}); err == nil {
		t.Logf("screenshot: %s.png", base)
	}
	if html, err := page.Content(); err == nil && os.WriteFile(base+".html", []byte(html), 0o644) == nil {
		t.Logf("page HTML: %s.html (at %s)", base, page.URL())
	}
}

// expectVisible fails the test unless the locator becomes visible.
func expectVisible(t *testing.T, loc playwright.Locator, what string) {
	t.Helper()
	if err := loc.First().WaitFor(playwright.LocatorWaitForOptions{State: playwright.WaitForSelectorStateVisible}); err != nil {
		t.Fatalf("%s not visible: %v", what, err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ctx is a test-bounded context.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}
