package webui

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"appfactory/platforms/contentapp/content"
)

func TestCreateThroughForm(t *testing.T) {
	s := newStack(t, testConfig(allComponents), "1.0")
	form := url.Values{
		"doctype": {"Contract"}, "title": {"Supply deal"}, "f.party": {"Globex"}, "f.amount": {"12.5"},
		"f.signed": {"2026-03-01"}, "f.active": {"true"}, "f.kind": {"msa"},
	}
	code, loc, body := s.post(t, "/documents", form)
	if code != http.StatusSeeOther {
		t.Fatalf("create = %d %s", code, body)
	}
	d, err := s.store.Document(context.Background(), path.Base(loc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"party": "Globex", "amount": 12.5, "signed": "2026-03-01", "active": true, "kind": "msa"}
	for k, v := range want {
		if d.Fields[k] != v {
			t.Errorf("stored %s = %#v, want %#v", k, d.Fields[k], v)
		}
	}
	code, page := s.get(t, loc)
	if code != http.StatusOK {
		t.Fatalf("document page = %d", code)
	}
	mustContain(t, page, "<title>Supply deal · Acme Docs</title>", "<h2>Supply deal</h2>", "<dd>Globex</dd>", "<dd>12.5</dd>",
		"<dd>2026-03-01</dd>", "<dd>yes</dd>", "<dd>msa</dd>", `href="../app.css"`, `<option selected>msa</option>`, " checked>")
	for _, l := range links(page) {
		if strings.HasPrefix(l, "/") || strings.Contains(l, ":") {
			t.Errorf("link %q is not relative", l)
		}
	}
	_, home := s.get(t, "/")
	mustContain(t, home, `<a href="./documents/`+d.ID+`">Supply deal</a>`)
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
		want []string
	}{
		{"bad number", url.Values{"doctype": {"Contract"}, "title": {"Kept title"}, "f.amount": {"twelve"}, "f.party": {"Globex"}},
			[]string{"amount must be a number.", `value="Kept title"`, `value="twelve"`, `value="Globex"`}},
		{"missing title", url.Values{"doctype": {"Contract"}, "title": {" "}, "f.kind": {"nda"}},
			[]string{"A title is required.", "<option selected>nda</option>"}},
		{"bad date", url.Values{"doctype": {"Contract"}, "title": {"x"}, "f.signed": {"31/12/2026"}},
			[]string{"signed must be a date (YYYY-MM-DD)."}},
		{"forged choice", url.Values{"doctype": {"Contract"}, "title": {"x"}, "f.kind": {"lease"}},
			[]string{"kind must be one of nda, msa."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, testConfig(nil), "1.0")
			code, loc, page := s.post(t, "/documents", tt.form)
			if code != http.StatusUnprocessableEntity || loc != "" {
				t.Fatalf("create = %d %q, want 422", code, loc)
			}
			mustContain(t, page, tt.want...)
			mustContain(t, page, "<title>Acme Docs</title>", `href="./app.css"`)
			if list, err := s.store.Documents(context.Background(), 10); err != nil || list.Total != 0 {
				t.Fatalf("a refused document was stored, or the list failed: %v", err)
			}
		})
	}
	s := newStack(t, testConfig(nil), "1.0")
	if code, _, _ := s.post(t, "/documents", url.Values{"doctype": {"Nope"}, "title": {"x"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown doctype = %d", code)
	}
}

func TestUserContentIsEscaped(t *testing.T) {
	const xss = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	cfg := testConfig(allComponents)
	cfg.Model.Title = `Acme <b>Docs</b>`
	cfg.Custom[0].Description = xss
	s := newStack(t, cfg, "1.0")
	code, loc, _ := s.post(t, "/documents", url.Values{"doctype": {"Contract"}, "title": {xss}, "f.party": {xss}})
	if code != http.StatusSeeOther {
		t.Fatalf("create = %d", code)
	}
	if code, _, _ := s.post(t, loc+"/comments", url.Values{"author": {xss}, "body": {xss}}); code != http.StatusSeeOther {
		t.Fatalf("comment = %d", code)
	}
	_, home := s.get(t, "/")
	_, doc := s.get(t, loc)
	_, found := s.get(t, "/search?q=alert")
	for name, page := range map[string]string{"home": home, "document": doc, "search": found} {
		t.Run(name, func(t *testing.T) {
			mustNotContain(t, page, "<script", "<img", "<b>Docs</b>")
			mustContain(t, page, "&lt;script&gt;", "Acme &lt;b&gt;Docs&lt;/b&gt;")
		})
	}
}

func TestEditKeepsVersions(t *testing.T) {
	s := newStack(t, testConfig(allComponents), "1.0")
	loc := s.createDoc(t, "First title")
	code, back, _ := s.post(t, loc, url.Values{"title": {"Second title"}, "version": {"1"}, "f.amount": {"7"}})
	if code != http.StatusSeeOther || back != loc {
		t.Fatalf("edit = %d %q", code, back)
	}
	_, page := s.get(t, loc)
	mustContain(t, page, "<h2>Second title</h2>", "version 2", "Version 1: First title", "<dd>7</dd>")
	code, _, page = s.post(t, loc, url.Values{"title": {"Stale"}, "version": {"1"}})
	if code != http.StatusConflict {
		t.Fatalf("stale edit = %d", code)
	}
	mustContain(t, page, "changed since version 1", `value="Stale"`)
	code, _, page = s.post(t, loc, url.Values{"title": {"x"}, "f.amount": {"lots"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad edit = %d", code)
	}
	mustContain(t, page, "amount must be a number.")
}

func TestWorkflowThroughForm(t *testing.T) {
	s := newStack(t, testConfig(allComponents), "1.0")
	loc := s.createDoc(t, "Flowing")
	for _, to := range []string{content.Review, content.Published} {
		if code, back, _ := s.post(t, loc+"/transition", url.Values{"to": {to}}); code != http.StatusSeeOther || back != loc {
			t.Fatalf("to %s = %d %q", to, code, back)
		}
	}
	_, page := s.get(t, loc)
	mustContain(t, page, `<span class="state state-published">published</span>`, `value="draft"><button type="submit">Move to draft`)
	code, _, page := s.post(t, loc+"/transition", url.Values{"to": {content.Review}})
	if code != http.StatusConflict {
		t.Fatalf("illegal transition = %d", code)
	}
	mustContain(t, page, "cannot move to review")
}

func TestCommentsThroughForm(t *testing.T) {
	s := newStack(t, testConfig(allComponents), "1.0")
	loc := s.createDoc(t, "Discussed")
	if code, back, _ := s.post(t, loc+"/comments", url.Values{"author": {"Ann"}, "body": {"Looks good"}}); code != http.StatusSeeOther || back != loc {
		t.Fatalf("comment = %d %q", code, back)
	}
	_, page := s.get(t, loc)
	mustContain(t, page, "Ann ·", "<p>Looks good</p>")
	code, _, page := s.post(t, loc+"/comments", url.Values{"author": {"Bob"}, "body": {"  "}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("empty comment = %d", code)
	}
	mustContain(t, page, "A comment needs some text.", `value="Bob"`)
}

func TestSearchPage(t *testing.T) {
	s := newStack(t, testConfig(allComponents), "1.0")
	s.createDoc(t, "Supply agreement")
	s.createDoc(t, "Lease")
	code, page := s.get(t, "/search?q=supply")
	if code != http.StatusOK {
		t.Fatalf("search = %d", code)
	}
	mustContain(t, page, "1 result(s)", ">Supply agreement</a>", `value="supply"`)
	mustNotContain(t, page, ">Lease</a>")
	_, page = s.get(t, "/search?q=nothing")
	mustContain(t, page, "Nothing found")
}

// TestComponentsOnOff checks that each optional component shows (and
// works) exactly when it is enabled.
func TestComponentsOnOff(t *testing.T) {
	tests := []struct {
		component string
		marker    string // what the document page shows when enabled
		home      string // what the home page shows when enabled
		method    string // a route of the component
		route     string
	}{
		{content.Comments, `<section class="comments">`, `data-component="comments"`, "POST", "/comments"},
		{content.Versioning, `<section class="versions">`, `data-component="versioning"`, "", ""},
		{content.Workflow, `<section class="workflow">`, "<th>State</th>", "POST", "/transition"},
		{content.Search, `role="search"`, `role="search"`, "GET", "/search?q=x"},
	}
	for _, tt := range tests {
		for _, on := range []bool{true, false} {
			name := tt.component + " off"
			comps := content.Components{}
			if on {
				name, comps = tt.component+" on", content.Components{tt.component}
			}
			t.Run(name, func(t *testing.T) {
				s := newStack(t, testConfig(comps), "1.0")
				loc := s.createDoc(t, "Doc")
				_, home := s.get(t, "/")
				_, doc := s.get(t, loc)
				if got := strings.Contains(doc, tt.marker); got != on {
					t.Errorf("document page shows %q = %v", tt.marker, got)
				}
				if got := strings.Contains(home, tt.home); got != on {
					t.Errorf("home page shows %q = %v", tt.home, got)
				}
				if tt.route == "" {
					return
				}
				var code int
				if tt.method == "GET" {
					code, _ = s.get(t, tt.route)
				} else {
					code, _, _ = s.post(t, loc+tt.route, url.Values{"to": {"review"}, "body": {"hi"}})
				}
				if (code == http.StatusNotFound) == on {
					t.Errorf("%s %s = %d with the component on=%v", tt.method, tt.route, code, on)
				}
			})
		}
	}
}
