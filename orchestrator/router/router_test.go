package router

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

func TestRouterUnknownHosts(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(newBackend(t, "acme"))}})
	for _, host := range []string{"nobody.example.test", "a.acme.example.test", "acme.other.test", "-x.example.test", "acme.example.test.evil"} {
		t.Run(host, func(t *testing.T) {
			for _, accept := range []string{"application/json", "text/html"} {
				resp := f.do(t, http.MethodGet, host, "/", map[string]string{"Accept": accept}, nil)
				body := readAll(t, resp)
				if resp.StatusCode != http.StatusNotFound {
					t.Fatalf("%s (%s) -> %d, want 404", host, accept, resp.StatusCode)
				}
				if body == "" || strings.Contains(body, "acme") {
					t.Errorf("404 body %q: empty or names a tenant", body)
				}
			}
		})
	}
}

func TestRouterRoutesToTheRightTenant(t *testing.T) {
	forEachFront(t, RouterConfig{}, func(t *testing.T, f *routerFixture) {
		for i, slug := range []string{"acme", "globex", "initech"} {
			f.routes.Set(route.Route{TenantID: fmt.Sprintf("t%d", i), Slug: slug, State: domain.StateRunning, Backends: []string{addr(newBackend(t, slug))}})
		}
		tests := []struct{ host, want string }{
			{"acme.example.test", "acme"},
			{"globex.example.test:8080", "globex"},
			{"INITECH.Example.TEST", "initech"},
			{"acme.example.test.", "acme"},
			{"Globex.example.test.:443", "globex"},
		}
		for _, tc := range tests {
			t.Run(tc.host, func(t *testing.T) {
				code, e := f.getEcho(t, tc.host, nil)
				if code != http.StatusOK || e.Name != tc.want {
					t.Fatalf("%s -> %d from %q, want 200 from %q", tc.host, code, e.Name, tc.want)
				}
				// The app sees the host the client asked for.
				if e.Host != tc.host {
					t.Errorf("backend saw Host %q, want %q", e.Host, tc.host)
				}
			})
		}
	})
}

func TestRouterReplacesForwardingHeadersAndStripsPortalCookies(t *testing.T) {
	forEachFront(t, RouterConfig{StripCookies: []string{"af_session", "af_flash"}}, func(t *testing.T, f *routerFixture) {
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(newBackend(t, "acme"))}})
		tests := []struct {
			name       string
			cookie     string
			wantCookie string
		}{
			{"session only", "af_session=secret", ""},
			{"mixed", "app=1; af_session=secret; af_flash=hi; theme=dark", "app=1; theme=dark"},
			{"app cookies kept", "app=1;theme=dark", "app=1;theme=dark"},
			{"lookalike kept", "af_session2=x; xaf_session=y", "af_session2=x; xaf_session=y"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				code, e := f.getEcho(t, "acme.example.test", map[string]string{
					"X-Forwarded-For":   "6.6.6.6",
					"X-Forwarded-Host":  "evil.test",
					"X-Forwarded-Proto": "https",
					"Forwarded":         "for=6.6.6.6;host=evil.test",
					"Cookie":            tc.cookie,
				})
				if code != http.StatusOK {
					t.Fatalf("status %d", code)
				}
				h := e.Header
				if got := h.Get("X-Forwarded-For"); got != "127.0.0.1" {
					t.Errorf("X-Forwarded-For = %q, want the client's address only", got)
				}
				if got := h.Get("X-Forwarded-Host"); got != "acme.example.test" {
					t.Errorf("X-Forwarded-Host = %q", got)
				}
				if got := h.Get("X-Forwarded-Proto"); got != "http" {
					t.Errorf("X-Forwarded-Proto = %q", got)
				}
				if got := h.Get("Forwarded"); got != "" {
					t.Errorf("client's Forwarded header reached the app: %q", got)
				}
				if got := h.Get("Cookie"); got != tc.wantCookie {
					t.Errorf("Cookie = %q, want %q", got, tc.wantCookie)
				}
			})
		}
	})
}

// upgradeBackend answers a WebSocket-style upgrade by echoing each line
// back in upper case over the hijacked connection.
func upgradeBackend(t *testing.T) string {
	t.Helper()
	srv := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			fmt.Fprint(brw, strings.ToUpper(line))
			brw.Flush()
		}
	}))
	return srv
}

func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestRouterWebSocketUpgrade(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{upgradeBackend(t)}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "GET /ws HTTP/1.1\r\nHost: acme.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade -> %d", resp.StatusCode)
	}
	for _, msg := range []string{"hello\n", "through the router\n"} {
		fmt.Fprint(conn, msg)
		got, err := br.ReadString('\n')
		if err != nil || got != strings.ToUpper(msg) {
			t.Fatalf("echo of %q = %q, %v", msg, got, err)
		}
		// An open WebSocket keeps the tenant busy, however long it lasts.
		if n := f.activity.InFlight("t1"); n != 1 {
			t.Errorf("in flight during WebSocket = %d, want 1", n)
		}
	}
	conn.Close()
	waitFor(t, 2*time.Second, "WebSocket end to be seen", func() bool { return f.activity.InFlight("t1") == 0 })
}

func TestRouterStreamsWithoutBuffering(t *testing.T) {
	forEachFront(t, RouterConfig{}, func(t *testing.T, f *routerFixture) {
		release := make(chan struct{})
		backend := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: first\n\n")
			w.(http.Flusher).Flush()
			<-release
			fmt.Fprint(w, "data: last\n\n")
		}))
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{backend}})
		resp := f.do(t, http.MethodGet, "acme.example.test", "/events", nil, nil)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != "data: first\n" {
			t.Fatalf("first event %q, %v: the proxy buffered the stream", line, err)
		}
		if f.activity.InFlight("t1") != 1 || f.activity.Idle("t1", time.Now().Add(time.Hour), time.Time{}) != 0 {
			t.Error("a tenant streaming a response counts as idle")
		}
		close(release)
		rest, _ := io.ReadAll(br)
		if !strings.Contains(string(rest), "data: last") {
			t.Errorf("rest of stream %q", rest)
		}
	})
}

func TestRouterBalancesAndTakesOutFailedReplica(t *testing.T) {
	forEachFront(t, RouterConfig{ReprobeInterval: 20 * time.Millisecond}, func(t *testing.T, f *routerFixture) {
		a, b := newBackend(t, "a"), newBackend(t, "b")
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(a), addr(b)}, Readiness: "/healthz"})
		seen := map[string]int{}
		for range 10 {
			code, e := f.getEcho(t, "acme.example.test", nil)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			seen[e.Name]++
		}
		if seen["a"] != 5 || seen["b"] != 5 {
			t.Errorf("round robin over two replicas gave %v", seen)
		}

		// A replica that stops answering is skipped, with no error for clients.
		dead := deadAddr(t)
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{dead, addr(b)}, Readiness: "/healthz", Generation: 2})
		for range 6 {
			code, e := f.getEcho(t, "acme.example.test", nil)
			if code != 200 || e.Name != "b" {
				t.Fatalf("with a dead replica: %d from %q", code, e.Name)
			}
		}
		if n := f.act.calls.Load(); n != 0 {
			t.Errorf("a dead replica beside a live one started the tenant %d times", n)
		}

		// The dead replica comes back: the re-probe puts it in rotation again.
		ln, err := net.Listen("tcp", dead)
		if err != nil {
			t.Skipf("address %s taken again: %v", dead, err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"name":"revived"}`) })}
		go srv.Serve(ln)
		defer srv.Close()
		waitFor(t, 3*time.Second, "the replica back in rotation", func() bool {
			_, e := f.getEcho(t, "acme.example.test", nil)
			return e.Name == "revived"
		})
	})
}

func TestRouterRouteDeletionGives404(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(newBackend(t, "acme"))}})
	if code, _ := f.getEcho(t, "acme.example.test", nil); code != 200 {
		t.Fatalf("before delete: %d", code)
	}
	f.routes.Delete("acme")
	if code, _ := f.getEcho(t, "acme.example.test", nil); code != 404 {
		t.Fatalf("after delete: %d, want 404", code)
	}
}

func TestRouterPassesRequestBodies(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{deadAddr(t), addr(newBackend(t, "acme"))}})
	for range 4 {
		resp := f.do(t, http.MethodPost, "acme.example.test", "/upload", nil, strings.NewReader(strings.Repeat("x", 100000)))
		body := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, `"body_len":100000`) {
			t.Fatalf("POST through a dead and a live replica: %d %s", resp.StatusCode, body)
		}
	}
}

func TestRouterStaticFilesOnTenantHost(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: "passivated"})
	for _, p := range []string{"/__appfactory/static/app.css", "/__appfactory/static/app.js"} {
		resp := f.do(t, http.MethodGet, "acme.example.test", p, nil, nil)
		body := readAll(t, resp)
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("%s -> %d (%d bytes)", p, resp.StatusCode, len(body))
		}
	}
	if n := f.act.calls.Load(); n != 0 {
		t.Errorf("static files started the tenant %d times", n)
	}
	resp := f.do(t, http.MethodGet, "acme.example.test", "/__appfactory/nothing", nil, nil)
	readAll(t, resp)
	if resp.StatusCode != 404 {
		t.Errorf("unknown reserved path -> %d", resp.StatusCode)
	}
}
