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
	"sync"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"
)

// driverVersion is the playwright-core version that playwright-go expects;
// package.json pins the same.
const driverVersion = "1.64.1"

var (
	root    string // the repository
	pw      *playwright.Playwright
	browser playwright.Browser
	// portal is the server the journeys share that deploy nothing.
	portal sharedServer
	// contexts numbers each test's browser contexts.
	contexts counter
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
	code := m.Run()
	if err := portal.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	return code
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

// newPage opens a fresh browser context and page. When the test fails,
// every page of the context (tabs the journey opened too) leaves a
// screenshot and its HTML under e2e/artifacts/, named in the test output.
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
	bctx.SetDefaultTimeout(15000)
	n := contexts.next(t.Name())
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range bctx.Pages() {
				saveArtifacts(t, p, fmt.Sprintf("%d.%d", n, i+1))
			}
		}
		bctx.Close()
	})
	return page
}

// counter numbers the browser contexts of each test, for artifact names.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) next(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
	return c.n[key]
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// artifactsDir is the git-ignored folder of failure artifacts and screenshots.
func artifactsDir() string { return filepath.Join(root, "e2e", "artifacts") }

// saveArtifacts saves a page as <test>-<context>.<page>.png and .html.
func saveArtifacts(t *testing.T, page playwright.Page, n string) {
	t.Helper()
	dir := artifactsDir()
	os.MkdirAll(dir, 0o755)
	base := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_")+"-"+n)
	if _, err := page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(base + ".png"), FullPage: playwright.Bool(true)}); err == nil {
		t.Logf("screenshot: %s.png", base)
	}
	if html, err := page.Content(); err == nil && os.WriteFile(base+".html", []byte(html), 0o644) == nil {
		t.Logf("page HTML: %s.html (at %s)", base, page.URL())
	}
}

// screenshot saves the whole page as e2e/artifacts/screenshots/<name>.png
// for the README (`make screenshots` copies them into docs/).
func screenshot(t *testing.T, page playwright.Page, name string) {
	t.Helper()
	dir := filepath.Join(artifactsDir(), "screenshots")
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, name+".png")
	if _, err := page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(path), FullPage: playwright.Bool(true)}); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy waits for the server's /healthz, or for it to exit.
func waitHealthy(s *Server, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(s.URL + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("appfactory exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("appfactory did not answer /healthz in 20s")
}

// ctx is a test-bounded context.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}
