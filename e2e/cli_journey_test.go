package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// brokenCatalog is the built-in catalog with one more version of the
// sample platform, 3.0, whose routed port never answers: an upgrade to
// it fails its readiness.
func brokenCatalog(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "catalog", "catalog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	// The platform's stack, re-indented as a version's own.
	_, after, ok := strings.Cut(text, "\n    stack: |\n")
	if !ok {
		t.Fatal("no platform stack in catalog/catalog.yaml: fix the test")
	}
	var stack []string
	for _, line := range strings.Split(after, "\n") {
		if line != "" && !strings.HasPrefix(line, "      ") {
			break
		}
		stack = append(stack, "    "+line)
	}
	broken := strings.Replace(strings.Join(stack, "\n"), "port: 8080", "port: 9999", 1)
	version := "      - version: \"3.0\"\n        label: ContentApp 3.0 (never ready)\n        image: appfactory/contentapp:2.0\n        stack: |\n" + broken + "\n"
	anchor := "      - version: \"1.0\"\n" // after 2.0: new apps still take 2.0, the first
	if !strings.Contains(text, anchor) || !strings.Contains(broken, "port: 9999") {
		t.Fatal("catalog/catalog.yaml changed shape: fix the test")
	}
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(text, anchor, version+anchor, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cli runs the appfactory CLI with its own config directory; it returns
// the output, and fails the test when the command fails.
type cli struct {
	t   *testing.T
	cfg string
}

func (c cli) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(root, "bin", "appfactory"), args...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+c.cfg, "HOME="+c.cfg, "APPFACTORY_URL=", "APPFACTORY_TOKEN=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("appfactory %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tenant reads a tenant with `tenants show -o json`.
func (c cli) tenant(id string) (state, version string) {
	c.t.Helper()
	var tn struct {
		State   string `json:"state"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal([]byte(c.run("tenants", "show", id, "-o", "json")), &tn); err != nil {
		c.t.Fatal(err)
	}
	return tn.State, tn.Version
}

func (c cli) waitState(id, state string, within time.Duration) {
	c.t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(300 * time.Millisecond) {
		if got, _ := c.tenant(id); got == state {
			return
		}
		if time.Now().After(deadline) {
			got, _ := c.tenant(id)
			c.t.Fatalf("tenant %s is %s after %s, want %s", id, got, within, state)
		}
	}
}

// writeNote creates a document in a tenant through the router.
func writeNote(t *testing.T, s *Server, slug, title string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/documents", s.Port),
		strings.NewReader(url.Values{"doctype": {"Note"}, "title": {title}, "f.body": {"x"}}.Encode()))
	req.Host = fmt.Sprintf("%s.localhost:%d", slug, s.Port)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("create document %q: %s", title, resp.Status)
	}
}

// TestCLIJourney drives a tenant with the CLI alone, over HTTP, as an
// operator would from another machine: deploy, passivate, activate, back
// up, write, restore (the write is gone), upgrade to a version that never
// becomes ready (rolled back by itself, the data intact), delete.
func TestCLIJourney(t *testing.T) {
	s := startServer(t, "--catalog", brokenCatalog(t), "--upgrade-deadline", "15s", "--pause-after", "0")
	admin := adminAPI(t, s, "cli-admin@example.com", passphrase)
	appID, title := createApp(t, admin, "Scripted", "trial")
	c := cli{t: t, cfg: t.TempDir()}
	c.run("login", "--url", s.URL, "--token", admin.token)
	if out := c.run("apps", "ls"); !strings.Contains(out, appID) {
		t.Fatalf("apps ls lacks %s:\n%s", appID, out)
	}

	var tn struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	}
	if err := json.Unmarshal([]byte(c.run("tenants", "deploy", appID, "-o", "json")), &tn); err != nil || tn.ID == "" {
		t.Fatalf("deploy: %v", err)
	}
	c.waitState(tn.ID, "running", 2*time.Minute)
	c.run("tenants", "passivate", tn.ID)
	c.waitState(tn.ID, "passivated", time.Minute)
	c.run("tenants", "activate", tn.ID)
	c.waitState(tn.ID, "running", time.Minute)

	writeNote(t, s, tn.Slug, "Kept by the backup")
	if out := c.run("tenants", "backup", tn.ID); !strings.Contains(out, "SHA256") {
		t.Fatalf("backup printed:\n%s", out)
	}
	writeNote(t, s, tn.Slug, "Written after the backup")
	c.run("tenants", "restore", tn.ID, "--latest")
	// The restore is done by the tenant's next pass: wait for the page to
	// lose the later write.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		code, body := s.tenantGet(t, tn.Slug, "/")
		if code == 200 && strings.Contains(body, "Kept by the backup") && !strings.Contains(body, "Written after the backup") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restore: %d, the later write still there or the kept one gone", code)
		}
	}

	c.run("tenants", "upgrade", tn.ID, "3.0")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		state, version := c.tenant(tn.ID)
		if state == "running" && version != "3.0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after an upgrade that never becomes ready: %s on %s, want rolled back and running", state, version)
		}
	}
	if code, body := s.tenantGet(t, tn.Slug, "/"); code != 200 || !strings.Contains(body, "Kept by the backup") || !strings.Contains(body, title) {
		t.Fatalf("after the rollback: %d, data lost", code)
	}
	if out := c.run("tenants", "events", tn.ID); !strings.Contains(out, "rolling back") {
		t.Errorf("events say nothing of the rollback:\n%s", tail(out, 2000))
	}

	c.run("tenants", "delete", tn.ID)
	c.waitState(tn.ID, "deleted", 2*time.Minute)
}
