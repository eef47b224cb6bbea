package e2e

import (
	"regexp"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/store"
)

// TestPasswordResetJourney: a prospect who forgot the password asks for a
// link from the sign-in page; with no SMTP server the mail waits in the
// development outbox, where an admin reads it; the prospect opens the link,
// sets a new password and signs in with it, and the link is used up.
func TestPasswordResetJourney(t *testing.T) {
	s := startServer(t)
	const adminEmail, email, newPassword = "mail-admin@example.com", "fay@example.com", "a fresh passphrase for fay"
	adminAPI(t, s, adminEmail, passphrase)
	createUser(t, s, email, "Fay Forgetful", store.RoleProspect)

	page := newPage(t)
	// The used link answers 404 on purpose.
	errs := consoleErrors(page, regexp.MustCompile(`^Failed to load resource: the server responded with a status of 404 `))
	goTo(t, page, s.URL+"/login")
	click(t, page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Forgot password?"}))
	fill(t, page.GetByLabel("Email", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}), email)
	click(t, button(page, "Send me a link"))
	expectVisible(t, page.GetByText("If an account exists for "+email), "the answer given to every address")

	// The admin finds the mail in the outbox and reads its link.
	admin := newPage(t)
	signIn(t, admin, s, adminEmail, passphrase)
	goTo(t, admin, s.URL+"/admin/outbox")
	row := admin.Locator("tbody tr").Filter(playwright.LocatorFilterOptions{HasText: email})
	click(t, row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Reset your appfactory password"}))
	text, err := admin.Locator("pre.mail-text").First().TextContent()
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://\S+/reset/[A-Za-z0-9_-]+`).FindString(text)
	if link == "" {
		t.Fatalf("no reset link in the mail:\n%s", text)
	}

	// The link opens on the portal this server serves (its port).
	goTo(t, page, s.URL+regexp.MustCompile(`/reset/.*$`).FindString(link))
	expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Choose a new password"}), "the reset page")
	fill(t, page.GetByLabel("New password"), newPassword)
	click(t, button(page, "Set my password"))
	if err := page.WaitForURL(regexp.MustCompile(`/login$`)); err != nil {
		t.Fatalf("no landing on /login: %v", err)
	}
	expectVisible(t, page.GetByText("Your password is changed."), "the flash after the reset")
	signIn(t, page, s, email, newPassword)

	// Used once, the link works no more.
	goTo(t, page, link)
	expectVisible(t, page.GetByText("This link is not valid any more"), "a used link's refusal")
	noConsoleErrors(t, errs)
}
