package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"
)

// tenantPostForm posts a form to a tenant through the router.
func (s *Server) tenantPostForm(t *testing.T, slug, path string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", s.Port, path), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = fmt.Sprintf("%s.localhost:%d", slug, s.Port)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s%s: %v", req.Host, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBackupsJourney: a prospect backs a deployment up from its page
// (the panel swaps in place), writes more, restores the backup (the page
// follows the restore until done), and finds the data as it was.
func TestBackupsJourney(t *testing.T) {
	s := startServer(t)
	page := newPage(t)
	errs := consoleErrors(page, regexp.MustCompile(`status of 503|/favicon\.ico\)$`))
	acceptDialogs(page)
	signUp(t, page, s, person{Name: "Bea Backup", Email: "bea@example.com", Company: "ACME"})
	w := wizard{t, page}
	w.platform("Backed Desk", "contentapp", "1.0")
	w.components()
	w.toModel()
	w.model("Backed Docs", "", doctypeSpec{Name: "Contract", Fields: []fieldSpec{{Name: "amount", Type: "number"}}})
	w.environment("trial", 1)
	w.deploy()
	running := page.Locator(`#tenant-progress [data-state="running"]`)
	if err := running.WaitFor(playwright.LocatorWaitForOptions{Timeout: playwright.Float(120000)}); err != nil {
		t.Fatalf("the deployment never ran: %v", err)
	}
	link, err := page.Locator("#tenant-progress").GetByRole("link", playwright.LocatorGetByRoleOptions{Name: ".localhost:"}).TextContent()
	if err != nil {
		t.Fatal(err)
	}
	slug := strings.TrimPrefix(strings.SplitN(strings.TrimSpace(link), ".localhost:", 2)[0], "http://")
	doc := func(title string) {
		if code := s.tenantPostForm(t, slug, "/documents", url.Values{"doctype": {"Contract"}, "title": {title}, "f.amount": {"1"}}); code >= 400 {
			t.Fatalf("create document %q: %d", title, code)
		}
	}
	doc("Before the backup")

	panel := page.Locator("#tenant-backups")
	expectVisible(t, panel.GetByText("No backups yet."), "the empty Backups panel")
	if _, err := page.Evaluate(`() => { window.afSameDocument = true }`); err != nil {
		t.Fatal(err)
	}
	click(t, panel.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Back up now"}))
	expectVisible(t, panel.GetByText(regexp.MustCompile(`Backup [a-z2-7]+ taken`)), "the backup taken")
	if same, _ := page.Evaluate(`() => window.afSameDocument === true`); same != true {
		t.Error("Back up now reloaded the page instead of swapping the panel")
	}
	expectVisible(t, panel.Locator("tbody tr").First().GetByText("manual"), "the backup's row")

	doc("After the backup")
	if _, body := s.tenantGet(t, slug, "/"); !strings.Contains(body, "After the backup") {
		t.Fatal("the later document is not listed")
	}
	click(t, panel.Locator("tbody tr").First().GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Restore", Exact: playwright.Bool(true)}))
	// The page follows the restore: the panel says it waits and polls
	// itself, the events say when it is done.
	deadline := time.Now().Add(time.Minute)
	for {
		if n, _ := page.Locator("#tenant-progress .event").Filter(playwright.LocatorFilterOptions{HasText: "Restored the data of backup"}).Count(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deployment's events never told of the restore")
		}
		time.Sleep(250 * time.Millisecond)
		if _, err := page.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	waitForState(t, page, "running", time.Minute)
	_, body := s.tenantGet(t, slug, "/")
	if !strings.Contains(body, "Before the backup") || strings.Contains(body, "After the backup") {
		t.Fatalf("after the restore the tenant lists:\n%.2000s", body)
	}
	noConsoleErrors(t, errs)
}
