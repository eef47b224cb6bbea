package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// apiClient calls the JSON API with a bearer token.
type apiClient struct {
	base, token string
}

// call sends a JSON request, decodes the answer into out and returns the status.
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

// tenantJSON is what the API says of a tenant.
type tenantJSON struct {
	ID        string     `json:"id"`
	Slug      string     `json:"slug"`
	State     string     `json:"state"`
	Message   string     `json:"state_message"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// tenant reads a tenant through the API.
func (a apiClient) tenant(t *testing.T, id string) tenantJSON {
	t.Helper()
	var got tenantJSON
	if code := a.call(t, http.MethodGet, "/api/v1/tenants/"+id, nil, &got); code != http.StatusOK {
		t.Fatalf("GET tenant %s: %d", id, code)
	}
	return got
}

// waitTenantState polls the API until the tenant reaches state.
func (a apiClient) waitTenantState(t *testing.T, id, state string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got tenantJSON
	for time.Now().Before(deadline) {
		a.call(t, http.MethodGet, "/api/v1/tenants/"+id, nil, &got)
		if got.State == state {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("tenant %s is %q (%s) after %s, want %s", id, got.State, got.Message, within, state)
}

// tokenAPI creates an API token for a user with the CLI (it prints the
// token alone on its last line).
func tokenAPI(t *testing.T, s *Server, email string) apiClient {
	t.Helper()
	out := strings.TrimSpace(runCLI(t, s, "token", "create", "--email", email))
	return apiClient{base: s.URL, token: out[strings.LastIndex(out, "\n")+1:]}
}

// adminAPI creates an admin with the CLI, the way the README says, and
// returns an API client with the admin's token.
func adminAPI(t *testing.T, s *Server, email, pw string) apiClient {
	t.Helper()
	runCLI(t, s, "admin", "create", "--email", email, "--password", pw)
	return tokenAPI(t, s, email)
}

// deployedTenant is a tenant made through the API.
type deployedTenant struct {
	AppID, ID, Slug, Title string
}

// createApp stores a finished app of the catalog's first platform whose
// model title is unique to the test run.
func createApp(t *testing.T, api apiClient, name, env string) (appID, title string) {
	t.Helper()
	return createAppWith(t, api, name, env, nil)
}

// createAppWith is createApp with uploaded components of the caller's.
func createAppWith(t *testing.T, api apiClient, name, env string, custom []string) (appID, title string) {
	t.Helper()
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
	title = fmt.Sprintf("%s Docs %d", name, time.Now().UnixNano()%1000000)
	var app struct {
		ID string `json:"id"`
	}
	code := api.call(t, http.MethodPost, "/api/v1/apps", map[string]any{
		"name": name, "platform": p.ID, "version": p.Versions[0].Version, "components": []string{}, "custom_components": custom,
		"environment": env, "replicas": 1,
		"model": map[string]any{"title": title, "doctypes": []any{map[string]any{"name": "Note", "fields": []any{map[string]any{"name": "body", "type": "text"}}}}},
	}, &app)
	if code != 201 && code != 200 || app.ID == "" {
		t.Fatalf("create app %s: %d", name, code)
	}
	return app.ID, title
}

// deployApp creates and deploys an app through the API; it does not wait.
func deployApp(t *testing.T, api apiClient, name, env string) deployedTenant {
	t.Helper()
	appID, title := createApp(t, api, name, env)
	var tenant tenantJSON
	if code := api.call(t, http.MethodPost, "/api/v1/apps/"+appID+"/deploy", map[string]any{}, &tenant); tenant.ID == "" {
		t.Fatalf("deploy %s: %d", name, code)
	}
	return deployedTenant{AppID: appID, ID: tenant.ID, Slug: tenant.Slug, Title: title}
}
