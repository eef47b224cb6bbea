package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"appfactory/web"
)

// hostServer is a portal whose home page says "portal", on domain, listening on addr.
func hostServer(domain, addr string) http.Handler {
	s := web.New(web.Options{Domain: domain, Addr: addr})
	s.Echo().GET("/", func(c echoContext) error { return c.String(200, "portal") })
	return s.Handler()
}

func serveHost(h http.Handler, host, path, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPortalAnswersOnlyItsOwnHosts(t *testing.T) {
	h := hostServer("factory.example.com", "192.0.2.10:8080")
	for _, tc := range []struct {
		host   string
		portal bool
	}{
		{"factory.example.com", true},
		{"FACTORY.example.com.:443", true},
		{"localhost:8080", true},
		{"127.0.0.1:8080", true},
		{"127.3.4.5", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"192.0.2.10:8080", true}, // the address it listens on
		{"192.0.2.11:8080", false},
		{"evil.example", false},
		{"x.localhost.evil.example", false},
		{"factory.example.com.evil.example", false},
		{"evilfactory.example.com", false},
		{"", false},
		{"[::2]", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			rec := serveHost(h, tc.host, "/", "text/html")
			got := rec.Code == 200 && rec.Body.String() == "portal"
			if got != tc.portal {
				t.Fatalf("Host %q: %d %q; portal %v, want %v", tc.host, rec.Code, rec.Body.String(), got, tc.portal)
			}
			if !tc.portal && (rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "No such site")) {
				t.Errorf("Host %q: %d %q, want the 404 page", tc.host, rec.Code, rec.Body.String())
			}
			if !tc.portal && rec.Header().Get("Set-Cookie") != "" {
				t.Errorf("Host %q got a cookie", tc.host)
			}
		})
	}
	// An API client asking an unknown host gets our JSON error.
	rec := serveHost(h, "evil.example", "/api/v1/apps", "application/json")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"code":"not_found"`) {
		t.Errorf("API on an unknown host: %d %s", rec.Code, rec.Body.String())
	}
	// Liveness answers whatever the host: probes dial an address.
	if rec := serveHost(h, "10.1.2.3:8080", "/healthz", ""); rec.Code != 200 {
		t.Errorf("healthz on an address: %d", rec.Code)
	}
	// With the default --addr (every address) no address but loopback is the portal's.
	if rec := serveHost(hostServer("localhost", ":8080"), "192.0.2.10:8080", "/", ""); rec.Code != 404 {
		t.Errorf("an address with --addr :8080: %d", rec.Code)
	}
}

// FuzzPortalHost checks that whatever the Host header, the portal answers
// only its domain, localhost and loopback, and never a tenant's host.
func FuzzPortalHost(f *testing.F) {
	for _, s := range []string{"localhost:8080", "evil.example", "x.localhost.evil.example", "[::1]:80", "127.0.0.1", "LOCALHOST.", "acme.localhost", "localhost.evil", "0x7f.0.0.1", "[::ffff:7f00:1]"} {
		f.Add(s)
	}
	h := hostServer("localhost", ":8080")
	f.Fuzz(func(t *testing.T, host string) {
		if strings.ContainsAny(host, "\r\n") {
			return
		}
		rec := serveHost(h, host, "/", "")
		if rec.Code != 200 || rec.Body.String() != "portal" {
			return
		}
		n := web.NormalizeHost(host)
		if _, tenant := web.TenantSlug(host, "localhost"); tenant {
			t.Fatalf("Host %q is a tenant's but the portal answered", host)
		}
		if n == "localhost" {
			return
		}
		if ip, err := netip.ParseAddr(n); err == nil && ip.Unmap().IsLoopback() {
			return
		}
		t.Fatalf("portal answered Host %q (normalised %q)", host, n)
	})
}
