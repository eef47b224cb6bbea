package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/password"
	"appfactory/store"
)

// createStaff adds a user of a role straight in the server's database (no
// command makes sales people; admins promote them in the portal).
func createStaff(t *testing.T, s *Server, email, role, pw string) {
	t.Helper()
	db, err := store.Open(context.Background(), s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(context.Background(), &store.User{Email: email, Name: "Sam Seller", PasswordHash: hash, Role: role}); err != nil {
		t.Fatal(err)
	}
}

// TestSalesDemoJourney: a sales person marks an app as a template, creates
// a demo of it for a prospect who has no account, opens the shared link
// as the prospect would, and the prospect then takes the account over with
// the invitation link and finds the demo under their apps.
func TestSalesDemoJourney(t *testing.T) {
	s := startServer(t)
	const pw = "a fine long passphrase"
	api := adminAPI(t, s, "admin@example.com", pw)
	appID, title := createApp(t, api, "Contracts", "trial")
	createStaff(t, s, "sam@example.com", store.RoleSales, pw)

	page := newPage(t)
	errs := consoleErrors(page, nil)
	signIn(t, page, s, "sam@example.com", pw)
	if _, err := page.Goto(s.URL + "/apps/" + appID); err != nil {
		t.Fatal(err)
	}
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Mark as template"}))
	expectVisible(t, page.GetByText("is a demo template now"), "template confirmation")

	if _, err := page.Goto(s.URL + "/sales"); err != nil {
		t.Fatal(err)
	}
	if _, err := page.Locator("#demo-template").SelectOption(playwright.SelectOptionValues{Values: &[]string{appID}}); err != nil {
		t.Fatal(err)
	}
	fill(t, page.GetByLabel("Prospect's email"), "lead@example.com")
	fill(t, page.GetByLabel("Prospect's name"), "Lea Lead")
	fill(t, page.GetByLabel("Company"), "Lead Corp")
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Create the demo"}))
	expectVisible(t, page.GetByText("Demo created for lead@example.com"), "demo result")
	link, err := page.Locator("#demo-link").GetAttribute("href")
	if err != nil || !strings.HasPrefix(link, "http://") || !strings.Contains(link, ".localhost:") {
		t.Fatalf("share link %q (%v)", link, err)
	}
	follow, _ := page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Follow the deployment"}).GetAttribute("href")
	tenantID := strings.TrimPrefix(follow, "/tenants/")
	invite, err := page.Locator("#invite-link").TextContent()
	if err != nil || !strings.Contains(invite, "/invite/") {
		t.Fatalf("invitation link %q (%v)", invite, err)
	}
	api.waitTenantState(t, tenantID, "running", 2*time.Minute)

	// The prospect opens the shared link: no account needed to use the demo.
	prospect := newPage(t)
	if _, err := prospect.Goto(link); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, prospect.GetByText(title), "the demo app")

	// The invitation makes the account theirs; the demo is among their deployments.
	if _, err := prospect.Goto(strings.TrimSpace(invite)); err != nil {
		t.Fatal(err)
	}
	fill(t, prospect.GetByLabel("Password"), "another fine passphrase")
	click(t, prospect.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Set my password"}))
	if err := prospect.WaitForURL(regexp.MustCompile(`/apps$`)); err != nil {
		t.Fatalf("no landing on /apps: %v", err)
	}
	expectVisible(t, prospect.Locator("#my-tenants [data-state=running]"), "the running demo under My apps")

	// The sales view lists the prospect with the demo.
	if _, err := page.Goto(s.URL + "/sales"); err != nil {
		t.Fatal(err)
	}
	row := page.Locator("#prospects tr").Filter(playwright.LocatorFilterOptions{HasText: "lead@example.com"})
	expectVisible(t, row, "the prospect's row")
	if txt, _ := row.TextContent(); !strings.Contains(txt, "Lead Corp") || !strings.Contains(txt, "days") {
		t.Errorf("prospect row: %q", txt)
	}
	if len(*errs) > 0 {
		t.Errorf("console errors: %v", *errs)
	}
}
