package e2e

import (
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/store"
)

// TestAdminDashboardJourney: an admin (made with the CLI, as the README
// says) finds a prospect's tenant on the dashboard by searching, sees its
// events, charts and live logs, passivates it, deletes another prospect's
// tenant, and sees the counts change; the deleted tenant's Docker objects
// are gone.
func TestAdminDashboardJourney(t *testing.T) {
	s := startServer(t)
	const email = "admin@example.com"
	admin := adminAPI(t, s, email, passphrase)
	createUser(t, s, "pam@example.com", "Pam Prospect", store.RoleProspect)
	createUser(t, s, "otto@example.com", "Otto Other", store.RoleProspect)
	alpha := deployApp(t, tokenAPI(t, s, "pam@example.com"), "Alpha", "trial")
	beta := deployApp(t, tokenAPI(t, s, "otto@example.com"), "Beta", "trial")
	admin.waitTenantState(t, alpha.ID, "running", 2*time.Minute)
	admin.waitTenantState(t, beta.ID, "running", 2*time.Minute)

	page := newPage(t)
	acceptDialogs(page)
	errs := consoleErrors(page, nil)
	signIn(t, page, s, email, passphrase)
	goTo(t, page, s.URL+"/admin")
	rows := page.Locator("#tenant-table tbody tr")
	row := func(slug string) playwright.Locator {
		return rows.Filter(playwright.LocatorFilterOptions{HasText: slug})
	}
	expectVisible(t, page.Locator("svg.chart"), "a chart")
	expectVisible(t, row(alpha.Slug), "alpha's row")
	expectVisible(t, row(beta.Slug), "beta's row")
	expectCounts(t, page, map[string]string{"tenants": "2", "running": "2"})

	// Typing the prospect's email narrows the table in place: the charts
	// stay, the address follows.
	fill(t, page.Locator("#tenant-filters input[name=q]"), "pam@example.com")
	if err := row(beta.Slug).WaitFor(playwright.LocatorWaitForOptions{State: playwright.WaitForSelectorStateDetached}); err != nil {
		t.Fatalf("beta still listed after the search: %v", err)
	}
	if n, _ := rows.Count(); n != 1 {
		t.Fatalf("%d rows after the search, want 1", n)
	}
	if !strings.Contains(page.URL(), "q=pam%40example.com") {
		t.Errorf("address %s does not keep the search", page.URL())
	}
	if n, _ := page.Locator("svg.chart").Count(); n < 3 {
		t.Errorf("%d charts after the partial swap, want 3", n)
	}
	// A state filter that matches nothing empties the table.
	selectState := func(state string) {
		t.Helper()
		if _, err := page.Locator("#tenant-filters select[name=state]").SelectOption(playwright.SelectOptionValues{Values: &[]string{state}}); err != nil {
			t.Fatal(err)
		}
	}
	selectState("failed")
	expectVisible(t, page.GetByText("No tenant matches."), "empty result")
	selectState("")
	expectVisible(t, row(alpha.Slug), "alpha again")

	// Alpha's page: its events, its charts and its containers' logs live.
	click(t, row(alpha.Slug).GetByRole("link", playwright.LocatorGetByRoleOptions{Name: alpha.Slug}))
	expectVisible(t, page.Locator("#tenant-progress .event"), "alpha's events")
	expectVisible(t, page.Locator("#tenant-resources svg.chart").First(), "resource chart")
	expectVisible(t, page.GetByText("Following the logs live."), "live log status")
	if err := page.Locator("[data-log-output]").Filter(playwright.LocatorFilterOptions{HasText: " | "}).WaitFor(); err != nil {
		t.Errorf("no log line in the viewer: %v", err)
	}

	// Back to the search; passivate alpha from the table.
	if _, err := page.GoBack(); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, row(alpha.Slug), "alpha's row after Back")
	if err := page.GetByLabel("Select " + alpha.Slug).Check(); err != nil {
		t.Fatal(err)
	}
	click(t, button(page, "Passivate selected"))
	expectVisible(t, page.GetByText("1 tenant passivated."), "confirmation")
	admin.waitTenantState(t, alpha.ID, "passivated", time.Minute)
	if b := admin.tenant(t, beta.ID); b.State != "running" {
		t.Errorf("beta is %s, want running", b.State)
	}
	goTo(t, page, s.URL+"/admin")
	expectCounts(t, page, map[string]string{"tenants": "2", "running": "1", "passivated": "1"})
	screenshot(t, page, "admin-dashboard")

	// Delete beta (the portal asks first); the counts follow.
	if err := page.GetByLabel("Select " + beta.Slug).Check(); err != nil {
		t.Fatal(err)
	}
	click(t, button(page, "Delete selected"))
	expectVisible(t, page.GetByText("1 tenant deleted."), "confirmation")
	admin.waitTenantState(t, beta.ID, "deleted", time.Minute)
	goTo(t, page, s.URL+"/admin")
	expectCounts(t, page, map[string]string{"tenants": "1", "passivated": "1", "running": "0"})
	if n, err := row(beta.Slug).Count(); err != nil || n != 0 {
		t.Errorf("the deleted tenant is still listed (%v)", err)
	}
	waitNoObjects(t, "appfactory.tenant="+beta.ID, 10*time.Second)
	noConsoleErrors(t, errs)

	// What the dashboard showed, an operator's scraper reads too.
	fams, body := admin.scrapeMetrics(t)
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"appfactory_tenants", map[string]string{"state": "passivated"}, 1},
		{"appfactory_builds_total", nil, 2},
		{"appfactory_reconcile_seconds", nil, 2},
		{"appfactory_activations_total", nil, 0},
		{"appfactory_activation_seconds", nil, 0},
		{"appfactory_proxy_requests_total", nil, 0},
		{"go_goroutines", nil, 1},
	} {
		if got := metricSum(fams, c.name, c.labels); got < c.min {
			t.Errorf("/metrics: %s%v = %v, want at least %v", c.name, c.labels, got, c.min)
		}
	}
	for _, slug := range []string{alpha.Slug, beta.Slug} {
		if strings.Contains(body, `"`+slug+`"`) {
			t.Errorf("/metrics names the tenant %s in a label", slug)
		}
	}
}

// expectCounts checks the dashboard's figures: "tenants" is the live
// total, any other key a state's count ("0" when the state has no card).
func expectCounts(t *testing.T, page playwright.Page, want map[string]string) {
	t.Helper()
	stats := page.Locator(`section[aria-label="Tenants by state"] .stat`)
	for key, n := range want {
		var card playwright.Locator
		if key == "tenants" {
			card = stats.Filter(playwright.LocatorFilterOptions{Has: page.Locator(".label", playwright.PageLocatorOptions{HasText: "tenants"})}).First()
		} else {
			card = stats.Filter(playwright.LocatorFilterOptions{Has: page.Locator(".badge." + key)})
		}
		if c, _ := card.Count(); c == 0 {
			if n != "0" {
				t.Errorf("no %s figure on the dashboard, want %s", key, n)
			}
			continue
		}
		if got, _ := card.Locator(".value").TextContent(); strings.TrimSpace(got) != n {
			t.Errorf("dashboard shows %s %s, want %s", strings.TrimSpace(got), key, n)
		}
	}
}
