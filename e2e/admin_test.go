package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"
)

// adminAPI creates the first admin of a server and returns an API client
// with the admin's token.
func adminAPI(t *testing.T, s *Server, email, pw string) apiClient {
	t.Helper()
	runCLI(t, s, "admin", "create", "--email", email, "--password", pw)
	out := strings.TrimSpace(runCLI(t, s, "token", "create", "--email", email))
	return apiClient{base: s.URL, token: out[strings.LastIndex(out, "\n")+1:]}
}

// deployedTenant is a tenant made through the API.
type deployedTenant struct {
	AppID, ID, Slug, Title string
}

// createApp stores a finished app of the catalog's first platform whose
// model title is unique to the test run.
func createApp(t *testing.T, api apiClient, name, env string) (appID, title string) {
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
		"name": name, "platform": p.ID, "version": p.Versions[0].Version, "components": []string{},
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
	var tenant struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	}
	if code := api.call(t, http.MethodPost, "/api/v1/apps/"+appID+"/deploy", map[string]any{}, &tenant); tenant.ID == "" {
		t.Fatalf("deploy %s: %d", name, code)
	}
	return deployedTenant{AppID: appID, ID: tenant.ID, Slug: tenant.Slug, Title: title}
}

// signIn signs a browser page in through the sign-in form.
func signIn(t *testing.T, page playwright.Page, s *Server, email, pw string) {
	t.Helper()
	if _, err := page.Goto(s.URL + "/login"); err != nil {
		t.Fatal(err)
	}
	fill(t, page.GetByLabel("Email", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}), email)
	fill(t, page.GetByLabel("Password", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}), pw)
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign in"}).Last())
	if err := page.WaitForURL(regexp.MustCompile(`/apps$`)); err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}

// consoleErrors collects the page's console errors (a CSP violation shows
// there), leaving out the statuses a test provokes on purpose.
func consoleErrors(page playwright.Page, allowed *regexp.Regexp) *[]string {
	var errs []string
	page.OnConsole(func(m playwright.ConsoleMessage) {
		if m.Type() == "error" && (allowed == nil || !allowed.MatchString(m.Text())) {
			errs = append(errs, m.Text()+" ("+m.Location().URL+")")
		}
	})
	return &errs
}

// TestAdminDashboardJourney: an admin sees every tenant with the charts,
// narrows the table by typing (the table alone is re-rendered), passivates
// a tenant from it, and follows another one's logs live.
func TestAdminDashboardJourney(t *testing.T) {
	s := startServer(t)
	const email, pw = "admin@example.com", "a fine long passphrase"
	api := adminAPI(t, s, email, pw)
	alpha := deployApp(t, api, "Alpha", "trial")
	beta := deployApp(t, api, "Beta", "trial")
	api.waitTenantState(t, alpha.ID, "running", 2*time.Minute)
	api.waitTenantState(t, beta.ID, "running", 2*time.Minute)

	page := newPage(t)
	errs := consoleErrors(page, nil)
	signIn(t, page, s, email, pw)
	if _, err := page.Goto(s.URL + "/admin"); err != nil {
		t.Fatal(err)
	}
	rows := page.Locator("#tenant-table tbody tr")
	expectVisible(t, page.Locator("svg.chart"), "a chart")
	expectVisible(t, rows.Filter(playwright.LocatorFilterOptions{HasText: alpha.Slug}), "alpha's row")
	expectVisible(t, rows.Filter(playwright.LocatorFilterOptions{HasText: beta.Slug}), "beta's row")

	// Typing narrows the table in place: the charts stay, the address follows.
	fill(t, page.Locator("#tenant-filters input[name=q]"), alpha.Slug)
	if err := rows.Filter(playwright.LocatorFilterOptions{HasText: beta.Slug}).WaitFor(playwright.LocatorWaitForOptions{State: playwright.WaitForSelectorStateDetached}); err != nil {
		t.Fatalf("beta still listed after the search: %v", err)
	}
	if n, _ := rows.Count(); n != 1 {
		t.Fatalf("%d rows after the search, want 1", n)
	}
	if !strings.Contains(page.URL(), "q="+alpha.Slug) {
		t.Errorf("address %s does not keep the search", page.URL())
	}
	if n, _ := page.Locator("svg.chart").Count(); n < 3 {
		t.Errorf("%d charts after the partial swap, want 3", n)
	}
	// A state filter that matches nothing empties the table.
	if _, err := page.Locator("#tenant-filters select[name=state]").SelectOption(playwright.SelectOptionValues{Values: &[]string{"failed"}}); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, page.GetByText("No tenant matches."), "empty result")
	if _, err := page.Locator("#tenant-filters select[name=state]").SelectOption(playwright.SelectOptionValues{Values: &[]string{""}}); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, rows.Filter(playwright.LocatorFilterOptions{HasText: alpha.Slug}), "alpha again")

	// Passivate alpha from the table.
	if err := page.GetByLabel("Select " + alpha.Slug).Check(); err != nil {
		t.Fatal(err)
	}
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Passivate selected"}))
	expectVisible(t, page.GetByText("1 tenant passivated."), "confirmation")
	api.waitTenantState(t, alpha.ID, "passivated", time.Minute)
	var b struct {
		State string `json:"state"`
	}
	api.call(t, http.MethodGet, "/api/v1/tenants/"+beta.ID, nil, &b)
	if b.State != "running" {
		t.Errorf("beta is %s, want running", b.State)
	}

	// Beta's page follows its containers' logs live, and shows its charts.
	if _, err := page.Goto(s.URL + "/tenants/" + beta.ID); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, page.GetByText("Following the logs live."), "live log status")
	if err := page.Locator("[data-log-output]").Filter(playwright.LocatorFilterOptions{HasText: " | "}).WaitFor(); err != nil {
		t.Errorf("no log line in the viewer: %v", err)
	}
	expectVisible(t, page.Locator("#tenant-resources svg.chart").First(), "resource chart")
	if len(*errs) > 0 {
		t.Errorf("console errors: %v", *errs)
	}
}
