package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestInstancesSideBySide runs two appfactory instances (two data
// directories) on one engine, as staging beside production would: both
// deploy the slug "alpha" and both serve it, each its own app. Then the
// first one's containers are killed behind its back, and a held API
// request is served. A Host that is neither the portal's nor a tenant's
// gets 404.
func TestInstancesSideBySide(t *testing.T) {
	one, two := startServer(t), startServer(t)
	apiOne := adminAPI(t, one, "admin@example.com", passphrase)
	apiTwo := adminAPI(t, two, "admin@example.com", passphrase)
	a := deployApp(t, apiOne, "Alpha", "trial")
	b := deployApp(t, apiTwo, "Alpha", "trial")
	if a.Slug != "alpha" || b.Slug != "alpha" {
		t.Fatalf("slugs %q and %q, want alpha on both instances", a.Slug, b.Slug)
	}
	apiOne.waitTenantState(t, a.ID, "running", 2*time.Minute)
	apiTwo.waitTenantState(t, b.ID, "running", 2*time.Minute)
	for _, c := range []struct {
		s     *Server
		title string
	}{{one, a.Title}, {two, b.Title}} {
		if code, body := c.s.tenantGet(t, "alpha", "/"); code != 200 || !strings.Contains(body, c.title) {
			t.Errorf("alpha on instance %s: %d, want %q", c.s.Instance, code, c.title)
		}
	}

	// The portal answers only its own host.
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", one.Port), nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("Host: evil.example got %d, want 404", resp.StatusCode)
	}

	// Killed behind the first instance's back: the next request is held
	// until the tenant is back, then served; the other instance's alpha
	// is untouched.
	ids := dockerIDs("container", "appfactory.tenant="+a.ID)
	if len(ids) == 0 {
		t.Fatal("no container of the first alpha")
	}
	if out, err := exec.Command("docker", append([]string{"kill"}, ids...)...).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v: %s", err, out)
	}
	req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/healthz", one.Port), nil)
	req.Host = fmt.Sprintf("alpha.localhost:%d", one.Port)
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err = (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("held request after docker kill: %d, want 200", resp.StatusCode)
	}
	t.Logf("served %s after docker kill", time.Since(start).Round(time.Millisecond))
	if code, body := two.tenantGet(t, "alpha", "/"); code != 200 || !strings.Contains(body, b.Title) {
		t.Errorf("the second instance's alpha after the kill: %d", code)
	}
}
