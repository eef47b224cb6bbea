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

// TestProspectJourney is a prospect's whole first visit: sign up, build an
// app through every wizard step, deploy and follow the progress live, open
// the tenant and find the assembly in it, write a document, leave it until
// it is passivated, and come back through the starting page to the same
// document.
func TestProspectJourney(t *testing.T) {
	s := startServer(t, "--idle-timeout", "3s", "--pause-after", "0")
	page := newPage(t)
	// The starting page is served with 503, which Chromium logs; the
	// sample app has no /favicon.ico, which is the app's own business.
	errs := consoleErrors(page, regexp.MustCompile(`status of 503|/favicon\.ico\)$`))
	signUp(t, page, s, person{Name: "Pat Prospect", Email: "pat@example.com", Company: "ACME"})

	// Every step of the wizard. The custom component's version is new on
	// every run, so that the image is built (not reused) and the progress
	// has something to show.
	const title = "ACME Contracts"
	stamp := fmt.Sprintf("1.%d.0", time.Now().UnixNano()%1000000)
	const color, rgb = "#1f7a4d", "rgb(31, 122, 77)"
	w := wizard{t, page}
	w.platform("Contract Desk", "contentapp", "2.0")
	w.components("comments", "search")
	w.upload(componentArchive(t, "acme-stamp", stamp, "Stamps every signed contract."), "acme-stamp "+stamp)
	w.toModel()
	w.heading("Application model")
	w.fillModel(title, color, doctypeSpec{Name: "Contract", Fields: []fieldSpec{
		{Name: "amount", Type: "number"}, {Name: "status", Type: "choice", Choices: "open, signed"}}})
	screenshot(t, page, "wizard")
	w.click("Next: Environment")
	w.heading("Environment")
	w.environment("trial", 1)
	for _, text := range []string{"CONTENTAPP_FEATURE_COMMENTS", "CONTENTAPP_FEATURE_SEARCH", "acme-stamp"} {
		expectVisible(t, page.GetByText(text).First(), "review: "+text)
	}
	id := w.deploy()

	// The deployment page follows the build and the start live: the same
	// document (no reload) sees the state move on and the events come in.
	progress := page.Locator("#tenant-progress")
	first, _ := progress.Locator("[data-state]").GetAttribute("data-state")
	if _, err := page.Evaluate(`() => { window.afSameDocument = true }`); err != nil {
		t.Fatal(err)
	}
	if first == "running" {
		t.Fatalf("the deployment is running as its page opens: nothing to follow")
	}
	eventsAtFirst, _ := progress.Locator(".event").Count()
	running := progress.Locator(`[data-state="running"]`)
	if err := running.WaitFor(playwright.LocatorWaitForOptions{Timeout: playwright.Float(120000)}); err != nil {
		t.Fatalf("the page never showed running (first %s): %v", first, err)
	}
	if same, _ := page.Evaluate(`() => window.afSameDocument === true`); same != true {
		t.Error("the page was reloaded: progress did not follow live")
	}
	if n, _ := progress.Locator(".event").Count(); n <= eventsAtFirst {
		t.Errorf("events did not come in live: %d at first, %d when running", eventsAtFirst, n)
	}
	expectVisible(t, progress.Locator("#build-h ~ p .badge"), "the build's result")
	t.Logf("deployment page of %s: %s at first, running later, %d events", id, first, eventsAtFirst)

	// Open the tenant from its page (a new tab): title, colour, model and
	// components, the uploaded one by name.
	app, err := page.ExpectPopup(func() error {
		return progress.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: ".localhost:"}).Click()
	})
	if err != nil {
		t.Fatalf("open the tenant: %v", err)
	}
	tenantURL := app.URL()
	if !regexp.MustCompile(`^http://[a-z0-9-]+\.localhost:` + itoa(s.Port) + `/$`).MatchString(tenantURL) {
		t.Fatalf("tenant opened at %s", tenantURL)
	}
	bar := app.Locator("header.bar")
	expectVisible(t, bar.GetByRole("heading", playwright.LocatorGetByRoleOptions{Name: title}), "the app's title")
	if bg, err := bar.Evaluate(`e => getComputedStyle(e).backgroundColor`, nil); err != nil || bg != rgb {
		t.Errorf("header colour %v (%v), want %s", bg, err, rgb)
	}
	slug := strings.TrimSuffix(strings.TrimPrefix(tenantURL, "http://"), ".localhost:"+itoa(s.Port)+"/")
	if code, css := s.tenantGet(t, slug, "/app.css"); code != http.StatusOK || !strings.Contains(css, "--primary:"+color) {
		t.Errorf("app.css (%d) does not carry the colour: %.120s", code, css)
	}
	model := app.Locator("section.model")
	expectVisible(t, model.Locator("li.doctype").Filter(playwright.LocatorFilterOptions{HasText: "Contract"}), "the document type")
	expectVisible(t, model.GetByText("status (choice: open, signed)"), "the choice field")
	for _, c := range []string{"comments", "search"} {
		expectVisible(t, app.Locator(`li.component[data-component="`+c+`"]`), "component "+c)
	}
	expectVisible(t, app.Locator("li.custom-component").Filter(playwright.LocatorFilterOptions{HasText: "acme-stamp"}), "the custom component")
	expectVisible(t, app.GetByRole("searchbox", playwright.PageGetByRoleOptions{Name: "Search documents"}), "search box (search component)")

	// Write a document.
	const doc = "Master services agreement"
	form := app.Locator("section.create form.docform")
	fill(t, form.GetByLabel("Title"), doc)
	fill(t, form.GetByLabel("amount"), "1200")
	if _, err := form.GetByLabel("status").SelectOption(playwright.SelectOptionValues{Values: &[]string{"signed"}}); err != nil {
		t.Fatal(err)
	}
	click(t, form.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Create Contract"}))
	expectVisible(t, app.Locator("section.document h2").Filter(playwright.LocatorFilterOptions{HasText: doc}), "the new document")
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	// Left alone past the idle timeout, it is passivated; its page says so.
	waitForState(t, page, "passivated", time.Minute)

	// Opening it again shows the starting page at once, which reloads
	// itself into the app, with the document still there.
	app = newPageIn(t, page)
	resp := goTo(t, app, tenantURL)
	body, _ := resp.Text()
	if resp.Status() != http.StatusServiceUnavailable || !strings.Contains(body, "Starting "+title) {
		t.Fatalf("sleeping tenant answered %d:\n%.400s", resp.Status(), body)
	}
	if err := app.Locator("[data-ready-url]").WaitFor(playwright.LocatorWaitForOptions{State: playwright.WaitForSelectorStateDetached}); err != nil {
		t.Fatalf("still on the starting page: %v", err)
	}
	expectVisible(t, app.Locator("header.bar").GetByText(title), "the app after the starting page")
	expectVisible(t, app.Locator("section.documents").GetByRole("link", playwright.LocatorGetByRoleOptions{Name: doc}), "the document after passivation")
	if app.URL() != tenantURL {
		t.Errorf("landed at %s, want %s", app.URL(), tenantURL)
	}
	waitForState(t, page, "running", 30*time.Second)
	noConsoleErrors(t, errs)
}

// waitForState reloads a deployment page until its state badge shows state.
func waitForState(t *testing.T, page playwright.Page, state string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	badge := page.Locator("#tenant-progress [data-state]")
	var got string
	for time.Now().Before(deadline) {
		if _, err := page.Reload(); err != nil {
			t.Fatalf("reload %s: %v", page.URL(), err)
		}
		if got, _ = badge.GetAttribute("data-state"); got == state {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the deployment page shows %q after %s, want %s", got, within, state)
}

// newPageIn opens another tab in the page's browser context (same cookies).
func newPageIn(t *testing.T, page playwright.Page) playwright.Page {
	t.Helper()
	p, err := page.Context().NewPage()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
