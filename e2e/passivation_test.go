package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"
)

// apiClient calls the JSON API with a bearer token.
type apiClient struct {
	base, token string
}

func (a apiClient) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequest(method, a.base+path, &buf)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// waitTenantState polls the API until the tenant reaches state.
func (a apiClient) waitTenantState(t *testing.T, id, state string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got struct {
		State   string `json:"state"`
		Message string `json:"state_message"`
	}
	for time.Now().Before(deadline) {
		a.call(t, http.MethodGet, "/api/v1/tenants/"+id, nil, &got)
		if got.State == state {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("tenant %s is %q (%s) after %s, want %s", id, got.State, got.Message, within, state)
}

// TestPassivationJourney lets a deployed tenant fall asleep, opens it again
// in Chromium, sees the starting page, and lands in the app by itself.
func TestPassivationJourney(t *testing.T) {
	s := startServer(t, "--idle-timeout", "2s", "--pause-after", "0")
	runCLI(t, s, "admin", "create", "--email", "admin@example.com", "--password", "a fine long passphrase")
	out := strings.TrimSpace(runCLI(t, s, "token", "create", "--email", "admin@example.com"))
	api := apiClient{base: s.URL, token: out[strings.LastIndex(out, "\n")+1:]}

	var catalog struct {
		Platforms []struct {
			ID       string `json:"id"`
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
		} `json:"platforms"`
	}
	if code := api.call(t, http.MethodGet, "/api/v1/catalog", nil, &catalog); code != 200 || len(catalog.Platforms) == 0 {
		t.Fatalf("catalog: %d", code)
	}
	p := catalog.Platforms[0]
	title := fmt.Sprintf("Sleeper Docs %d", time.Now().UnixNano()%100000)
	var app struct {
		ID string `json:"id"`
	}
	code := api.call(t, http.MethodPost, "/api/v1/apps", map[string]any{
		"name": "Sleeper", "platform": p.ID, "version": p.Versions[0].Version, "components": []string{},
		"environment": "trial", "replicas": 1,
		"model": map[string]any{"title": title, "doctypes": []any{map[string]any{"name": "Note", "fields": []any{map[string]any{"name": "body", "type": "text"}}}}},
	}, &app)
	if code != 201 && code != 200 || app.ID == "" {
		t.Fatalf("create app: %d", code)
	}
	var tenant struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	}
	if code := api.call(t, http.MethodPost, "/api/v1/apps/"+app.ID+"/deploy", map[string]any{}, &tenant); tenant.ID == "" {
		t.Fatalf("deploy: %d", code)
	}
	api.waitTenantState(t, tenant.ID, "running", 2*time.Minute)

	page := newPage(t)
	var consoleErrors []string
	page.OnConsole(func(m playwright.ConsoleMessage) {
		// The starting page is served with 503, which Chromium logs; the
		// sample app has no /favicon.ico, which is the app's own business.
		if m.Type() == "error" && !strings.Contains(m.Text(), "503") && !strings.HasSuffix(m.Location().URL, "/favicon.ico") {
			consoleErrors = append(consoleErrors, m.Text()+" ("+m.Location().URL+")")
		}
	})
	url := s.TenantURL(tenant.Slug)
	if _, err := page.Goto(url); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, page.GetByText(title), "the app's title")

	// Idle for longer than the timeout: the tenant is stopped.
	page.Goto("about:blank")
	api.waitTenantState(t, tenant.ID, "passivated", 30*time.Second)

	// Opening it again shows the starting page at once...
	resp, err := page.Goto(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := resp.Text()
	if resp.Status() != http.StatusServiceUnavailable || !strings.Contains(body, "Starting "+title) {
		t.Fatalf("sleeping tenant answered %d:\n%.400s", resp.Status(), body)
	}
	// ...which reloads itself into the app once it is ready.
	if err := page.Locator("[data-ready-url]").WaitFor(playwright.LocatorWaitForOptions{State: playwright.WaitForSelectorStateDetached}); err != nil {
		t.Fatalf("still on the starting page: %v", err)
	}
	expectVisible(t, page.GetByText(title), "the app after the starting page")
	if page.URL() != url {
		t.Errorf("landed at %s, want %s", page.URL(), url)
	}
	if len(consoleErrors) > 0 {
		t.Errorf("console errors: %v", consoleErrors)
	}
}
