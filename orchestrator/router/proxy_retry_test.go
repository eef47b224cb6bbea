package router

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// dyingBackend accepts each request, then drops the connection without an
// answer, as a replica killed in the middle of a request does; it counts
// the requests by method.
func dyingBackend(t *testing.T) (string, func(method string) int64) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int64{}
	a := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method]++
		mu.Unlock()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	return a, func(m string) int64 { mu.Lock(); defer mu.Unlock(); return seen[m] }
}

func TestRouterSendsIdempotentRequestsToAnotherReplicaNeverAPost(t *testing.T) {
	forEachFront(t, RouterConfig{}, func(t *testing.T, f *routerFixture) {
		dying, dyingSaw := dyingBackend(t)
		var liveSaw sync.Map // method -> *atomic.Int64
		live := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := liveSaw.LoadOrStore(r.Method, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("live"))
		}))
		liveCount := func(m string) int64 {
			if n, ok := liveSaw.Load(m); ok {
				return n.(*atomic.Int64).Load()
			}
			return 0
		}
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{dying, live}})

		// Round robin sends every other request to the dying replica: the
		// idempotent ones with nothing to replay are answered by the other.
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete} {
			for i := range 4 {
				resp := f.do(t, m, "acme.example.test", "/x", nil, nil)
				body := readAll(t, resp)
				if resp.StatusCode != http.StatusOK || (m != http.MethodHead && body != "live") {
					t.Fatalf("%s #%d: %d %q", m, i, resp.StatusCode, body)
				}
			}
			if dyingSaw(m) == 0 {
				t.Errorf("no %s reached the dying replica: the test proves nothing", m)
			}
			if got := liveCount(m); got != 4 {
				t.Errorf("%s answered by the live replica %d times, want 4", m, got)
			}
		}

		// A POST is never sent twice: the one that reached the dying replica
		// is answered 502, and the live replica sees only the others.
		var bad int64
		for range 4 {
			resp := f.do(t, http.MethodPost, "acme.example.test", "/x", nil, strings.NewReader("form=1"))
			readAll(t, resp)
			switch resp.StatusCode {
			case http.StatusOK:
			case http.StatusBadGateway:
				bad++
			default:
				t.Fatalf("POST: %d", resp.StatusCode)
			}
		}
		if bad == 0 || bad != dyingSaw(http.MethodPost) || liveCount(http.MethodPost) != 4-bad {
			t.Errorf("POSTs: %d answered 502, %d reached the dying replica, %d the live one", bad, dyingSaw(http.MethodPost), liveCount(http.MethodPost))
		}

		// A PUT whose body was sent is not replayed either.
		resp := f.do(t, http.MethodPut, "acme.example.test", "/x", nil, strings.NewReader("doc"))
		readAll(t, resp)
		resp2 := f.do(t, http.MethodPut, "acme.example.test", "/x", nil, strings.NewReader("doc"))
		readAll(t, resp2)
		if dyingSaw(http.MethodPut) != 1 || liveCount(http.MethodPut) != 1 {
			t.Errorf("PUTs with a body: %d and %d; dying replica saw %d, live %d", resp.StatusCode, resp2.StatusCode,
				dyingSaw(http.MethodPut), liveCount(http.MethodPut))
		}
	})
}

// TestRouterKeepsBackendConnectionsAlive: GETs and HEADs reuse one
// connection to the backend, and one the backend closed while idle is
// replaced without an error for the client.
func TestRouterKeepsBackendConnectionsAlive(t *testing.T) {
	forEachFront(t, RouterConfig{}, func(t *testing.T, f *routerFixture) {
		var mu sync.Mutex
		remotes := map[string]bool{}
		srv := &http.Server{}
		idle := map[net.Conn]bool{} // the backend's connections waiting for a request
		srv.ConnState = func(c net.Conn, s http.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			if s == http.StateIdle {
				idle[c] = true
			} else {
				delete(idle, c)
			}
		}
		srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			remotes[r.RemoteAddr] = true
			mu.Unlock()
			switch r.URL.Path {
			case "/not-modified":
				w.WriteHeader(http.StatusNotModified)
			case "/empty":
				w.WriteHeader(http.StatusNoContent)
			default:
				_, _ = w.Write([]byte("hello"))
			}
		})
		backend := serveOn(t, srv)
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{backend}})
		for i := range 12 {
			method, path, want := http.MethodGet, "/", http.StatusOK
			switch i % 4 {
			case 1:
				method = http.MethodHead
			case 2:
				path, want = "/not-modified", http.StatusNotModified
			case 3:
				path, want = "/empty", http.StatusNoContent
			}
			resp := f.do(t, method, "acme.example.test", path, nil, nil)
			body := readAll(t, resp)
			if resp.StatusCode != want || (i%4 == 0 && body != "hello") {
				t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, body)
			}
		}
		if len(remotes) != 1 {
			t.Errorf("12 sequential requests used %d backend connections, want 1", len(remotes))
		}
		// The backend drops its idle connection (a restart, an idle
		// timeout), once it is idle: it marks it so a moment after the
		// answer reached the router.
		waitFor(t, 5*time.Second, "the backend's connection idle", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(idle) == 1
		})
		mu.Lock()
		for c := range idle {
			c.Close()
		}
		mu.Unlock()
		for range 3 {
			resp := f.do(t, http.MethodGet, "acme.example.test", "/", nil, nil)
			if body := readAll(t, resp); resp.StatusCode != http.StatusOK || body != "hello" {
				t.Fatalf("after the backend closed its idle connections: %d %q", resp.StatusCode, body)
			}
		}
		if len(remotes) != 2 {
			t.Errorf("after the backend closed the idle connection: %d connections, want 2", len(remotes))
		}
	})
}

// serveOn serves srv on a loopback port until the test ends.
func serveOn(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
