package webui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"appfactory/platforms/contentapp/config"
	"appfactory/platforms/contentapp/content"
	"appfactory/platforms/contentapp/docstore"
	"appfactory/platforms/contentapp/storeapi"
)

var allComponents = content.Components{content.Comments, content.Versioning, content.Workflow, content.Search}

func testConfig(comps content.Components) config.Config {
	return config.Config{
		Model: content.Model{Title: "Acme Docs", Color: "#aa3355", Doctypes: []content.Doctype{
			{Name: "Contract", Fields: []content.Field{
				{Name: "party", Type: content.Text},
				{Name: "amount", Type: content.Number},
				{Name: "signed", Type: content.Date},
				{Name: "active", Type: content.Boolean},
				{Name: "kind", Type: content.Choice, Choices: []string{"nda", "msa"}},
			}},
			{Name: "Memo", Fields: []content.Field{{Name: "body", Type: content.Text}}},
		}},
		Components: comps,
		Custom:     []config.Custom{{Name: "Stamp", Version: "1.2.3", Description: "Adds a stamp to contracts"}},
	}
}

// stack is a web role over a real store API over a real database file.
type stack struct {
	web    *httptest.Server
	store  *storeapi.Client
	client *http.Client
}

func newStack(t *testing.T, cfg config.Config, version string) *stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := docstore.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storeSrv := httptest.NewServer(storeapi.NewServer(db, cfg.Model, cfg.Components, version, log).Handler())
	t.Cleanup(func() { storeSrv.Close(); db.Close() })
	return newWeb(t, cfg, version, storeSrv.URL)
}

func newWeb(t *testing.T, cfg config.Config, version, storeURL string) *stack {
	t.Helper()
	client := storeapi.NewClient(storeURL)
	client.RetryFor = 100 * time.Millisecond
	app, err := New(Options{Config: cfg, Version: version, Store: client, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(app.Handler())
	t.Cleanup(web.Close)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &stack{web: web, store: client, client: noFollow}
}

// get returns the status and body of GET path.
func (s *stack) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := s.client.Get(s.web.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post submits a form to path and returns the status, the Location
// resolved against the request URL (as a browser would), and the body.
func (s *stack) post(t *testing.T, path string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := s.client.PostForm(s.web.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc != "" {
		if strings.HasPrefix(loc, "/") || strings.Contains(loc, "://") {
			t.Fatalf("Location %q is not relative", loc)
		}
		u, err := resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		loc = u.Path
	}
	return resp.StatusCode, loc, string(b)
}

// createDoc creates a Contract through the form and returns its page path.
func (s *stack) createDoc(t *testing.T, title string) string {
	t.Helper()
	code, loc, body := s.post(t, "/documents", url.Values{"doctype": {"Contract"}, "title": {title}, "f.amount": {"5"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/documents/") {
		t.Fatalf("create = %d %q %s", code, loc, body)
	}
	return loc
}

var linkRE = regexp.MustCompile(`(?:href|action|src)="([^"]*)"`)

// links returns every href, action and src of a page.
func links(page string) []string {
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func mustContain(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, page string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(page, w) {
			t.Errorf("page holds %q", w)
		}
	}
}
