package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/store"
)

// TestSalesDemoJourney: a sales person marks an app with an uploaded
// component as a template, creates a demo of it for a prospect who has no
// account; the prospect's mail carries the link, which serves the demo with
// the component; extends the demo's trial by a week, and the
// prospect then takes the account over with the invitation link and finds
// the demo under their apps.
func TestSalesDemoJourney(t *testing.T) {
	s := startServer(t)
	admin := adminAPI(t, s, "admin@example.com", passphrase)
	// The template carries a component its owner uploaded.
	stamp := admin.uploadComponent(t, componentArchive(t, "deal-stamp", "1.2.0", "Stamps every signed deal."))
	appID, title := createAppWith(t, admin, "Contracts", "trial", []string{stamp})
	createUser(t, s, "sam@example.com", "Sam Seller", store.RoleSales)

	page := newPage(t)
	errs := consoleErrors(page, nil)
	signIn(t, page, s, "sam@example.com", passphrase)
	goTo(t, page, s.URL+"/apps/"+appID)
	click(t, button(page, "Mark as template"))
	expectVisible(t, page.GetByText("is a demo template now"), "template confirmation")

	goTo(t, page, s.URL+"/sales")
	if _, err := page.Locator("#demo-template").SelectOption(playwright.SelectOptionValues{Values: &[]string{appID}}); err != nil {
		t.Fatal(err)
	}
	fill(t, page.GetByLabel("Prospect's email"), "lead@example.com")
	fill(t, page.GetByLabel("Prospect's name"), "Lea Lead")
	fill(t, page.GetByLabel("Company"), "Lead Corp")
	click(t, button(page, "Create the demo"))
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
	admin.waitTenantState(t, tenantID, "running", 2*time.Minute)

	// The prospect's mail (in the development outbox, read by an admin)
	// carries the demo's link and the invitation.
	inbox := newPage(t)
	signIn(t, inbox, s, "admin@example.com", passphrase)
	goTo(t, inbox, s.URL+"/admin/outbox")
	mailRow := inbox.Locator("tbody tr").Filter(playwright.LocatorFilterOptions{HasText: "lead@example.com"}).Filter(playwright.LocatorFilterOptions{HasText: "demo_shared"})
	expectVisible(t, mailRow, "the demo mail to the prospect")
	click(t, mailRow.GetByRole("link"))
	text, err := inbox.Locator("pre.mail-text").First().TextContent()
	if err != nil || !strings.Contains(text, link) || !strings.Contains(text, strings.TrimSpace(invite)) {
		t.Fatalf("the demo mail does not carry the link %s and the invitation: %q (%v)", link, text, err)
	}

	// The prospect opens the link of the mail: no account needed to use
	// the demo, which has the template's uploaded component.
	prospect := newPage(t)
	goTo(t, prospect, link)
	expectVisible(t, prospect.GetByText(title), "the demo app")
	expectVisible(t, prospect.GetByText("deal-stamp").First(), "the template's uploaded component in the demo")

	// The sales view lists the prospect with the demo; extending its trial
	// by a week moves the expiry by a week.
	goTo(t, page, s.URL+"/sales")
	row := page.Locator("#prospects tr").Filter(playwright.LocatorFilterOptions{HasText: "lead@example.com"})
	expectVisible(t, row, "the prospect's row")
	if txt, _ := row.TextContent(); !strings.Contains(txt, "Lead Corp") || !strings.Contains(txt, "days") {
		t.Errorf("prospect row: %q", txt)
	}
	before := admin.tenant(t, tenantID).ExpiresAt
	if before == nil {
		t.Fatal("the demo has no expiry")
	}
	slug := admin.tenant(t, tenantID).Slug
	if _, err := row.GetByLabel("Extend " + slug + " by").SelectOption(playwright.SelectOptionValues{Values: &[]string{"7"}}); err != nil {
		t.Fatal(err)
	}
	click(t, row.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Extend"}))
	expectVisible(t, page.GetByText("The trial of "+slug+" now ends"), "extension notice")
	after := admin.tenant(t, tenantID).ExpiresAt
	if moved := after.Sub(*before); moved < 7*24*time.Hour-time.Minute || moved > 7*24*time.Hour+time.Minute {
		t.Errorf("expiry moved by %s (from %s to %s), want 7 days", moved, before, after)
	}
	// The new end is on the notice as the day it falls on.
	expectVisible(t, page.GetByText(after.UTC().Format("Jan 2, 2006")), "the new end date")

	// The invitation makes the account theirs; the demo is among their deployments.
	goTo(t, prospect, strings.TrimSpace(invite))
	fill(t, prospect.GetByLabel("Password"), "another fine passphrase")
	click(t, button(prospect, "Set my password"))
	if err := prospect.WaitForURL(regexp.MustCompile(`/apps$`)); err != nil {
		t.Fatalf("no landing on /apps: %v", err)
	}
	expectVisible(t, prospect.Locator("#my-tenants [data-state=running]"), "the running demo under My apps")
	noConsoleErrors(t, errs)
}
