package webui

import (
	"net/http"
	"strings"
	"testing"

	"appfactory/platforms/contentapp/config"
	"appfactory/platforms/contentapp/content"
)

func TestHomeShowsCustomisation(t *testing.T) {
	s := newStack(t, testConfig(content.Components{content.Comments, "audit"}), "1.0")
	code, page := s.get(t, "/")
	if code != http.StatusOK {
		t.Fatalf("home = %d", code)
	}
	mustContain(t, page,
		"<title>Acme Docs</title>",
		`<h1><a href="./">Acme Docs</a></h1>`,
		`<link rel="stylesheet" href="./app.css">`,
		"<strong>Contract</strong>", "<strong>Memo</strong>",
		"party", "amount", "(choice: nda, msa)", "(date)", "(boolean)",
		`data-component="comments"`, "Comments on documents", `data-component="audit"`,
		"<strong>Stamp</strong>", "1.2.3", "Adds a stamp to contracts",
		`<legend>New Contract</legend>`, `<legend>New Memo</legend>`,
		`name="f.amount" type="number"`, `name="f.signed" type="date"`, `type="checkbox"`, "<option>msa</option>",
		"<footer>contentapp 1.0</footer>",
		"No documents yet",
	)
	mustNotContain(t, page, `role="search"`, `class="count"`, "style=", "<script")
	for _, l := range links(page) {
		if strings.HasPrefix(l, "/") || strings.Contains(l, ":") {
			t.Errorf("link %q is not relative", l)
		}
	}
}

func TestStylesheet(t *testing.T) {
	tests := []struct {
		color, wantOn string
	}{
		{"#aa3355", "#ffffff"},
		{"#ffee88", "#111111"},
		{"#000000", "#ffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.color, func(t *testing.T) {
			cfg := testConfig(nil)
			cfg.Model.Color = tt.color
			s := newStack(t, cfg, "1.0")
			resp, err := s.client.Get(s.web.URL + "/app.css")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") || resp.Header.Get("ETag") == "" {
				t.Fatalf("headers = %v", resp.Header)
			}
			_, css := s.get(t, "/app.css")
			mustContain(t, css, "--primary:"+tt.color, "--on-primary:"+tt.wantOn, "var(--primary)")
			req, _ := http.NewRequest("GET", s.web.URL+"/app.css", nil)
			req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
			if r2, err := s.client.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
				t.Fatalf("conditional GET = %v, %v", r2, err)
			}
		})
	}
}

func TestVersionTwoShowsCounts(t *testing.T) {
	tests := []struct {
		version   string
		wantCount bool
	}{{"1.0", false}, {"2.0", true}, {"dev", false}}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			s := newStack(t, testConfig(nil), tt.version)
			s.createDoc(t, "One")
			s.createDoc(t, "Two")
			_, page := s.get(t, "/")
			mustContain(t, page, "<footer>contentapp "+tt.version+"</footer>")
			has := strings.Contains(page, `<span class="count" title="documents in this application">2</span>`) &&
				strings.Contains(page, "Contract: 2 · Memo: 0")
			if has != tt.wantCount {
				t.Fatalf("counts shown = %v, want %v", has, tt.wantCount)
			}
		})
	}
}

func TestModelWithoutDoctypes(t *testing.T) {
	s := newStack(t, config.Config{Model: content.Model{Title: content.DefaultTitle, Color: content.DefaultColor}}, "1.0")
	_, page := s.get(t, "/")
	mustContain(t, page, "<title>Content App</title>", "<legend>New Document</legend>", "No components enabled.", "No custom components.")
	code, loc, _ := s.post(t, "/documents", map[string][]string{"doctype": {"Document"}, "title": {"Free note"}, "f.body": {"hello"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create = %d", code)
	}
	_, page = s.get(t, loc)
	mustContain(t, page, "<h2>Free note</h2>", "<dd>hello</dd>")
}

func TestProbesWithoutStore(t *testing.T) {
	s := newWeb(t, testConfig(nil), "1.0", "http://127.0.0.1:1")
	if code, body := s.get(t, "/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, _ := s.get(t, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz without store = %d", code)
	}
	code, page := s.get(t, "/")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("home without store = %d", code)
	}
	mustContain(t, page, "Acme Docs", "<strong>Contract</strong>", `role="alert"`)
}

func TestReadyWithStore(t *testing.T) {
	s := newStack(t, testConfig(nil), "1.0")
	if code, _ := s.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz = %d", code)
	}
}

func TestSecurityHeadersAndNotFound(t *testing.T) {
	s := newStack(t, testConfig(nil), "1.0")
	resp, err := s.client.Get(s.web.URL + "/no/such/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") {
		t.Fatalf("CSP = %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("no nosniff")
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := newStack(t, testConfig(nil), "1.0")
	req, _ := http.NewRequest("POST", s.web.URL+"/documents", strings.NewReader("doctype=Contract&title=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST = %d, want 403", resp.StatusCode)
	}
}

func TestRootOf(t *testing.T) {
	tests := map[string]string{"/": "./", "/search": "./", "/documents": "./", "/documents/x": "../", "/documents/x/comments": "../../"}
	for path, want := range tests {
		if got := rootOf(path); got != want {
			t.Errorf("rootOf(%q) = %q, want %q", path, got, want)
		}
	}
}
