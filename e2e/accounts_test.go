package e2e

import (
	"regexp"
	"strings"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"
)

// TestAccountsJourney signs up, signs out and signs in again in Chromium,
// through the htmx forms, with no console error (strict CSP).
func TestAccountsJourney(t *testing.T) {
	s := portal.get(t)
	page := newPage(t)
	// The forms answer 422 and 401 on purpose; Chromium reports any 4xx
	// load as an error, which is not what is looked for here.
	errs := consoleErrors(page, expectedStatus)
	const email, pw = "pat@example.com", passphrase
	goTo(t, page, s.URL+"/")
	if err := page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Start a free trial"}).First().Click(); err != nil {
		t.Fatal(err)
	}
	label := func(name string) playwright.Locator {
		return page.GetByLabel(name, playwright.PageGetByLabelOptions{Exact: playwright.Bool(false)})
	}
	// A too-short password is refused inline; what was typed stays.
	fill(t, label("Name"), "Pat Prospect")
	fill(t, label("Work email"), email)
	fill(t, label("Company"), "ACME")
	fill(t, label("Password"), "short1!x")
	fill(t, label("Password"), "short")
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Create my account"}))
	expectVisible(t, page.GetByText("Use at least 8 characters."), "inline password error")
	if v, _ := label("Work email").InputValue(); v != email {
		t.Fatalf("the email was lost: %q", v)
	}
	fill(t, label("Password"), pw)
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Create my account"}))
	if err := page.WaitForURL(regexp.MustCompile(`/apps$`)); err != nil {
		t.Fatalf("no landing on /apps: %v", err)
	}
	expectVisible(t, page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Pat Prospect"}), "user's name in the nav")

	// Sign out.
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign out"}))
	expectVisible(t, page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Sign in"}), "sign-in link after sign-out")
	goTo(t, page, s.URL+"/account")
	if !strings.Contains(page.URL(), "/login?next=%2Faccount") {
		t.Fatalf("signed-out visitor of /account is at %s", page.URL())
	}

	// A wrong password shows the message in place; the right one goes on to /account.
	fill(t, label("Email"), email)
	fill(t, label("Password"), "not the password")
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign in"}).Last())
	expectVisible(t, page.GetByText("The email or password is not right."), "wrong-password message")
	fill(t, label("Password"), pw)
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign in"}).Last())
	if err := page.WaitForURL(regexp.MustCompile(`/account$`)); err != nil {
		t.Fatalf("no landing on /account: %v", err)
	}
	expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Your account"}), "account page")

	// The cookie is host-only, HttpOnly and SameSite=Lax.
	cookies, err := page.Context().Cookies()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range cookies {
		if c.Name == "af_session" {
			found = true
			if !c.HttpOnly || c.SameSite == nil || *c.SameSite != *playwright.SameSiteAttributeLax || strings.HasPrefix(c.Domain, ".") {
				t.Errorf("session cookie %+v", c)
			}
		}
	}
	if !found {
		t.Error("no session cookie in the browser")
	}
	noConsoleErrors(t, errs)
}

var expectedStatus = regexp.MustCompile(`^Failed to load resource: the server responded with a status of (401|422) `)
