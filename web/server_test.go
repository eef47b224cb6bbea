package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"appfactory/web"
)

func TestTenantSlug(t *testing.T) {
	for _, tc := range []struct {
		host, slug string
		ok         bool
	}{
		{"acme.localhost:8080", "acme", true},
		{"ACME.LocalHost.", "acme", true},
		{"acme.localhost.:9000", "acme", true},
		{"localhost:8080", "", false},
		{"127.0.0.1:8080", "", false},
		{"a.b.localhost", "", false},
		{"-x.localhost", "", false},
		{"x_y.localhost", "", false},
		{".localhost", "", false},
		{"evil.com", "", false},
		{"acmelocalhost", "", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			slug, ok := web.TenantSlug(tc.host, "localhost")
			if slug != tc.slug || ok != tc.ok {
				t.Errorf("TenantSlug(%q) = %q, %v; want %q, %v", tc.host, slug, ok, tc.slug, tc.ok)
			}
		})
	}
}

func FuzzTenantSlug(f *testing.F) {
	for _, s := range []string{"acme.localhost:8080", "A.LOCALHOST.", "[::1]:80", "x..localhost", "é.localhost"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		slug, ok := web.TenantSlug(host, "localhost")
		if !ok {
			return
		}
		if slug == "" || strings.ContainsAny(slug, ".:/ ") || strings.ToLower(slug) != slug {
			t.Fatalf("TenantSlug(%q) gave bad slug %q", host, slug)
		}
		again, ok2 := web.TenantSlug(slug+".localhost", "localhost")
		if !ok2 || again != slug {
			t.Fatalf("slug %q does not round-trip", slug)
		}
	})
}

func TestHostDispatchAndErrors(t *testing.T) {
	s := web.New(web.Options{Domain: "localhost"})
	s.Echo().GET("/", func(c echoContext) error { return c.String(200, "portal") })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	get := func(host, path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = host
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if r, body := get("localhost:8080", "/", ""); r.StatusCode != 200 || body != "portal" {
		t.Errorf("portal: %d %q", r.StatusCode, body)
	}
	r, body := get("localhost", "/missing", "text/html")
	if r.StatusCode != 404 || !strings.Contains(body, "Page not found") {
		t.Errorf("404 page: %d %q", r.StatusCode, body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	r, body = get("localhost", "/api/v1/nothing", "")
	if r.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("API 404: %d %q", r.StatusCode, body)
	}
	r, body = get("nobody.localhost:8080", "/", "text/html")
	if r.StatusCode != 404 || !strings.Contains(body, "No such app") || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("unknown tenant: %d %q", r.StatusCode, body)
	}
	r, body = get("nobody.localhost:8080", "/x", "application/json")
	if r.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown tenant JSON: %d %q", r.StatusCode, body)
	}
	if r, _ := get("localhost", "/healthz", ""); r.StatusCode != 200 {
		t.Errorf("healthz %d", r.StatusCode)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	s := web.New(web.Options{Domain: "localhost"})
	called := false
	s.Echo().POST("/thing", func(c echoContext) error { called = true; return c.NoContent(204) })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/thing", strings.NewReader("a=b"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || called {
		t.Errorf("cross-site POST: %d, handler called %v", resp.StatusCode, called)
	}
}

func TestCacheControl(t *testing.T) {
	s := web.New(web.Options{Domain: "localhost"})
	s.Echo().GET("/page", func(c echoContext) error { return c.String(200, "private") })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for path, want := range map[string]string{"/static/app.css": "public, max-age=300", "/page": "no-store"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || got != want {
			t.Errorf("GET %s: %d, Cache-Control %q, want %q", path, resp.StatusCode, got, want)
		}
	}
}
