package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"
)

// TestHomePage: the first start names the portal and the command that
// makes the first admin (which works as printed); the home page says what
// appfactory is and leads to sign-up; an unknown page is a styled 404.
func TestHomePage(t *testing.T) {
	s := portal.get(t)

	// The first run's hint, run as printed with the placeholders filled in.
	log := s.logText()
	if !strings.Contains(log, "appfactory is up at http://localhost:"+itoa(s.Port)+"/") {
		t.Errorf("the first run does not print the portal's address:\n%s", tail(log, 15))
	}
	hint := regexp.MustCompile(`(?m)^No admin exists yet\. Create the first one with:\n\s+(\S+ admin create .*)$`).FindStringSubmatch(log)
	if hint == nil || !strings.HasPrefix(hint[1], filepath.Join(root, "bin", "appfactory")+" ") || !strings.Contains(hint[1], "--data-dir "+s.DataDir) {
		t.Fatalf("no admin create command for this data directory in the first run's output:\n%s", tail(log, 15))
	}
	cmdline := strings.NewReplacer("you@example.com", "first-admin@example.com", "'<a long password>'", "'"+passphrase+"'").Replace(hint[1])
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "created admin first-admin@example.com") {
		t.Errorf("the printed command %q: %v: %s", cmdline, err, out)
	}

	page := newPage(t)
	errs := consoleErrors(page, regexp.MustCompile(`status of 404`))
	goTo(t, page, s.URL+"/")
	expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Level: playwright.Int(1)}), "home heading")
	title, _ := page.Title()
	if !strings.Contains(title, "appfactory") {
		t.Errorf("title %q lacks appfactory", title)
	}
	expectVisible(t, page.GetByText("appfactory is a self-service application factory"), "what appfactory is")
	expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "1. Assemble"}), "how it works")
	loaded, err := page.Evaluate(`() => typeof window.htmx === "object" && htmx.config.allowEval === false`)
	if err != nil || loaded != true {
		t.Errorf("htmx not loaded with allowEval=false: %v %v", loaded, err)
	}
	click(t, page.Locator("#main").GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Start a free trial"}))
	if err := page.WaitForURL(regexp.MustCompile(`/signup$`)); err != nil {
		t.Errorf("the sign-up link leads to %s", page.URL())
	}
	expectVisible(t, button(page, "Create my account"), "sign-up form")

	// An unknown page is a styled 404.
	resp := goTo(t, page, s.URL+"/no-such-page")
	if resp.Status() != 404 {
		t.Fatalf("unknown page: %d", resp.Status())
	}
	expectVisible(t, page.GetByText("Page not found"), "404 heading")
	noConsoleErrors(t, errs)
}
