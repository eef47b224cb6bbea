package e2e

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"
)

// TestWhyAwakeJourney: a tenant woken by a browser, then warmed up by its
// owner signing in, says so on its page (what woke it, its cold starts in
// a chart, the share of time asleep); an admin gives it a sleep policy of
// its own through the page's form, and the API shows it.
func TestWhyAwakeJourney(t *testing.T) {
	s := startServer(t, "--pause-after", "0")
	const email = "awake-admin@example.com"
	admin := adminAPI(t, s, email, passphrase)
	tn := deployApp(t, admin, "Awake", "trial")
	admin.waitTenantState(t, tn.ID, "running", 2*time.Minute)
	passivate := func() {
		t.Helper()
		if code := admin.call(t, http.MethodPost, "/api/v1/tenants/"+tn.ID+"/passivate", nil, nil); code != 200 {
			t.Fatalf("passivate: %d", code)
		}
		admin.waitTenantState(t, tn.ID, "passivated", time.Minute)
	}
	passivate()

	// A visitor's browser wakes it: the starting page, then the app.
	visitor := newPage(t)
	errs := consoleErrors(visitor, regexp.MustCompile(`status of 503|/favicon\.ico\)$`))
	goTo(t, visitor, s.TenantURL(tn.Slug))
	// The starting page reloads onto the app by itself.
	if err := visitor.Locator("main.starting").WaitFor(playwright.LocatorWaitForOptions{State: playwright.WaitForSelectorStateDetached, Timeout: playwright.Float(60000)}); err != nil {
		t.Fatalf("the starting page did not open the app: %v", err)
	}
	expectVisible(t, visitor.GetByText(tn.Title).First(), "the app after the starting page")
	noConsoleErrors(t, errs)
	passivate()

	// Its owner signs in: the tenant is warmed up before any request.
	page := newPage(t)
	signIn(t, page, s, email, passphrase)
	admin.waitTenantState(t, tn.ID, "running", time.Minute)
	goTo(t, page, s.URL+"/tenants/"+tn.ID)
	panel := page.Locator("#sleep-panel")
	expectVisible(t, panel.GetByText("warm-up: its owner signed in"), "what woke it last")
	expectVisible(t, panel.GetByText("2 cold start(s) in the last 7 days"), "the cold starts")
	expectVisible(t, panel.Locator("#cold-starts svg.chart"), "the cold starts' chart")
	expectVisible(t, panel.Locator("#asleep-share"), "the share of time asleep")
	screenshot(t, page, "why-awake")

	// An admin keeps it warm all day and lets it idle two hours.
	form := page.Locator("#policy-form")
	fill(t, form.GetByLabel("Idle timeout"), "2h")
	if _, err := form.GetByLabel("Pause tier").SelectOption(playwright.SelectOptionValues{Values: &[]string{"off"}}); err != nil {
		t.Fatal(err)
	}
	fill(t, form.GetByLabel("Keep warm"), "someday 09:00-18:00")
	click(t, button(page, "Save policy"))
	expectVisible(t, page.Locator("#policy-form").GetByText(`unknown day "someday"`), "the form's error")
	fill(t, page.Locator("#policy-form").GetByLabel("Keep warm"), "daily 00:00-24:00")
	click(t, button(page, "Save policy"))
	expectVisible(t, page.GetByText("Sleep policy of "+tn.Slug+" saved."), "the saved policy's flash")
	expectVisible(t, page.Locator("#why-awake").GetByText("2 h idle (this tenant's own)"), "its own idle timeout")
	expectVisible(t, page.Locator("#why-awake").GetByText("daily 00:00-24:00"), "its keep-warm window")
	expectVisible(t, page.Locator("#why-awake .badge.running"), "in the window now")

	var got struct {
		Policy struct {
			IdleTimeout string `json:"idle_timeout"`
			PauseAfter  string `json:"pause_after"`
			InWindow    bool   `json:"in_keep_warm_window"`
		} `json:"policy"`
		Wake struct {
			ColdStarts []struct {
				WokenBy string `json:"woken_by"`
			} `json:"cold_starts_7d"`
		} `json:"wake"`
	}
	if code := admin.call(t, http.MethodGet, "/api/v1/tenants/"+tn.ID, nil, &got); code != 200 {
		t.Fatalf("GET tenant: %d", code)
	}
	if got.Policy.IdleTimeout != "2h0m0s" || got.Policy.PauseAfter != "off" || !got.Policy.InWindow || len(got.Wake.ColdStarts) != 2 {
		t.Errorf("tenant object: %+v", got)
	}
}
