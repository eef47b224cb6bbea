package e2e

import (
	"strings"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"
)

func TestHomePage(t *testing.T) {
	s := startServer(t)
	page := newPage(t)
	var consoleErrors []string
	page.OnConsole(func(m playwright.ConsoleMessage) {
		if m.Type() == "error" {
			consoleErrors = append(consoleErrors, m.Text())
		}
	})
	if _, err := page.Goto(s.URL + "/"); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Level: playwright.Int(1)}), "home heading")
	title, _ := page.Title()
	if !strings.Contains(title, "appfactory") {
		t.Errorf("title %q lacks appfactory", title)
	}
	loaded, err := page.Evaluate(`() => typeof window.htmx === "object" && htmx.config.allowEval === false`)
	if err != nil || loaded != true {
		t.Errorf("htmx not loaded with allowEval=false: %v %v", loaded, err)
	}
	expectVisible(t, page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Start a free trial"}), "sign-up link")
	if len(consoleErrors) > 0 {
		t.Errorf("console errors (CSP?): %v", consoleErrors)
	}
	// An unknown page is a styled 404.
	resp, err := page.Goto(s.URL + "/no-such-page")
	if err != nil || resp.Status() != 404 {
		t.Fatalf("unknown page: %v %v", resp, err)
	}
	expectVisible(t, page.GetByText("Page not found"), "404 heading")
}
