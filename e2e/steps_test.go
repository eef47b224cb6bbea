package e2e

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/password"
	"appfactory/store"
)

// passphrase is the password of every account the journeys make.
const passphrase = "a fine long passphrase"

// person is someone who signs up.
type person struct {
	Name, Email, Company string
}

func fill(t *testing.T, loc playwright.Locator, value string) {
	t.Helper()
	if err := loc.Fill(value); err != nil {
		t.Fatalf("fill: %v", err)
	}
}

func click(t *testing.T, loc playwright.Locator) {
	t.Helper()
	if err := loc.Click(); err != nil {
		t.Fatalf("click: %v", err)
	}
}

// goTo opens an address and fails the test when the browser cannot.
func goTo(t *testing.T, page playwright.Page, url string) playwright.Response {
	t.Helper()
	resp, err := page.Goto(url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return resp
}

// button is a button by its exact accessible name.
func button(page playwright.Page, name string) playwright.Locator {
	return page.GetByRole("button", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
}

// consoleLog holds the console errors of a browser context.
type consoleLog struct {
	mu   sync.Mutex
	errs []string
}

// consoleErrors collects the console errors of every page of the page's
// context (a CSP violation shows there), leaving out those the allowed
// pattern matches in "<text> (<url>)": statuses a test provokes on purpose.
func consoleErrors(page playwright.Page, allowed *regexp.Regexp) *consoleLog {
	l := &consoleLog{}
	page.Context().OnConsole(func(m playwright.ConsoleMessage) {
		line := m.Text() + " (" + m.Location().URL + ")"
		// The engine adds and removes network interfaces as tenants start
		// and stop on this very host; Chromium takes each change for a new
		// network and fails the requests open at that moment (a log
		// stream, which its EventSource opens again): that is the machine,
		// not the page.
		if strings.Contains(line, "net::ERR_NETWORK_CHANGED") {
			return
		}
		if m.Type() == "error" && (allowed == nil || !allowed.MatchString(line)) {
			l.mu.Lock()
			l.errs = append(l.errs, line)
			l.mu.Unlock()
		}
	})
	return l
}

// noConsoleErrors fails the test if errors were collected.
func noConsoleErrors(t *testing.T, l *consoleLog) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		t.Errorf("console errors (CSP?): %v", l.errs)
	}
}

// signUp makes an account through the sign-up form, which signs the
// browser in and lands on My apps.
func signUp(t *testing.T, page playwright.Page, s *Server, p person) {
	t.Helper()
	goTo(t, page, s.URL+"/signup")
	fill(t, page.GetByLabel("Name", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}), p.Name)
	fill(t, page.GetByLabel("Work email"), p.Email)
	fill(t, page.GetByLabel("Company"), p.Company)
	fill(t, page.GetByLabel("Password"), passphrase)
	click(t, button(page, "Create my account"))
	expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "My apps", Level: playwright.Int(1)}), "My apps after sign-up")
}

// signIn signs a browser page in through the sign-in form.
func signIn(t *testing.T, page playwright.Page, s *Server, email, pw string) {
	t.Helper()
	goTo(t, page, s.URL+"/login")
	fill(t, page.GetByLabel("Email", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}), email)
	fill(t, page.GetByLabel("Password", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}), pw)
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign in"}).Last())
	if err := page.WaitForURL(regexp.MustCompile(`/apps$`)); err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}

// createUser adds a user of a role straight in the server's database (no
// command makes sales people or prospects; admins promote people in the
// portal, prospects sign up).
func createUser(t *testing.T, s *Server, email, name, role string) {
	t.Helper()
	db, err := store.Open(context.Background(), s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, err := password.Hash(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(context.Background(), &store.User{Email: email, Name: name, PasswordHash: hash, Role: role}); err != nil {
		t.Fatal(err)
	}
}

// componentArchive writes a custom component bundle and returns its path.
func componentArchive(t *testing.T, name, version, description string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, file := range []struct{ name, body string }{
		{"component.yaml", fmt.Sprintf("name: %s\nversion: %s\ndescription: %s\n", name, version, description)},
		{"theme/site.css", "body { color: #123; }\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: file.name, Mode: 0o644, Size: int64(len(file.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(file.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// acceptDialogs answers yes to every confirm() of the page (the portal
// asks before deleting).
func acceptDialogs(page playwright.Page) {
	page.OnDialog(func(d playwright.Dialog) { d.Accept() })
}

// itoa is strconv.Itoa, for building selectors.
func itoa(i int) string { return strconv.Itoa(i) }
