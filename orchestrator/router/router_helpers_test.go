package router

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/web"
	"appfactory/web/lean"
)

const testDomain = "example.test"

// echoed is what the test backends answer: who they are and what they saw.
type echoed struct {
	Name    string      `json:"name"`
	Host    string      `json:"host"`
	Path    string      `json:"path"`
	Header  http.Header `json:"header"`
	Remote  string      `json:"remote"`
	BodyLen int         `json:"body_len"`
}

// newBackend starts a real HTTP server standing for one tenant replica; it
// answers every request with what it saw.
func newBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{Name: name, Host: r.Host, Path: r.URL.Path, Header: r.Header, Remote: r.RemoteAddr, BodyLen: len(b)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func addr(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// fakeActivator stands for the reconciler: it counts calls and, after a
// delay, routes the tenant to the given backends as running.
type fakeActivator struct {
	routes   *route.Routes
	delay    time.Duration
	backends []string
	err      error
	block    bool // wait for the context to end
	// release, when set, holds every activation until it is closed (or
	// the context ends): a test sees what happens while a start is under
	// way, with no clock involved.
	release chan struct{}
	// restart, when set, stands for starting the same containers again:
	// it is called instead of routing to backends, and the route is left
	// as it was (same addresses, same generation).
	restart  func()
	calls    atomic.Int64
	mu       sync.Mutex
	byTenant map[string]int
}

func (f *fakeActivator) Activate(ctx context.Context, tenantID string) error {
	f.calls.Add(1)
	f.mu.Lock()
	if f.byTenant == nil {
		f.byTenant = make(map[string]int)
	}
	f.byTenant[tenantID]++
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.err != nil {
		return f.err
	}
	if f.restart != nil {
		f.restart()
		return nil
	}
	for _, r := range f.routes.All() {
		if r.TenantID == tenantID {
			r.State = domain.StateRunning
			r.Backends = f.backends
			r.Generation++
			f.routes.Set(r)
		}
	}
	return nil
}

// routerFixture is a router behind a real listener, with the web package's
// pages, as serve wires it.
type routerFixture struct {
	routes   *route.Routes
	act      *fakeActivator
	activity *route.Activity
	router   *Router
	// url and client reach the front that serves the router.
	url    string
	client *http.Client
	// stop ends the router's Run and waits for it to return.
	stop func()
}

// The fronts a router is served by: the lean loop with the raw path, as
// serve runs it, and net/http's server alone (the direct path and the
// ReverseProxy for every request).
const (
	frontLean    = "lean"
	frontNetHTTP = "net/http"
)

// newRouterFixture serves the router as serve does.
func newRouterFixture(t *testing.T, cfg RouterConfig) *routerFixture {
	t.Helper()
	return newRouterFixtureOn(t, cfg, frontLean)
}

// forEachFront runs a test on a router served by each front.
func forEachFront(t *testing.T, cfg RouterConfig, test func(t *testing.T, f *routerFixture)) {
	for _, front := range []string{frontLean, frontNetHTTP} {
		t.Run(front, func(t *testing.T) { test(t, newRouterFixtureOn(t, cfg, front)) })
	}
}

func newRouterFixtureOn(t *testing.T, cfg RouterConfig, front string) *routerFixture {
	t.Helper()
	routes := route.NewRoutes()
	act := &fakeActivator{routes: routes}
	activity := route.NewActivity(nil, nil)
	cfg.Slug = func(h string) (string, bool) { return web.TenantSlug(h, testDomain) }
	cfg.Pages = Pages{Error: web.WriteTenantError, Starting: web.WriteStartingPage}
	cfg.Static = web.TenantStatic()
	rt := NewRouter(cfg, routes, act, activity)
	stop := runRouter(t, rt)
	f := &routerFixture{routes: routes, act: act, activity: activity, router: rt, stop: stop}
	// The front stops before the router: cleanups run last first.
	if front == frontNetHTTP {
		srv := httptest.NewServer(rt)
		t.Cleanup(srv.Close)
		f.url, f.client = srv.URL, srv.Client()
		return f
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ls := &lean.Server{Handler: rt, Take: lean.Plain, Fast: rt.ServeHead,
		Fallback: &http.Server{Handler: rt, ReadHeaderTimeout: 10 * time.Second}}
	served := make(chan error, 1)
	go func() { served <- ls.Serve(ln) }()
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ls.Shutdown(ctx); err != nil {
			t.Errorf("lean front shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("lean front: %v", err)
		}
	})
	f.url, f.client = "http://"+ln.Addr().String(), &http.Client{Transport: tr}
	return f
}

// runRouter runs rt until the test ends, as serve does; the stop it
// returns (also called at cleanup) cancels Run and waits for it.
func runRouter(tb testing.TB, rt *Router) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("router Run: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// get sends a request for host through the router.
func (f *routerFixture) do(t *testing.T, method, host, path string, hdr map[string]string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	return resp
}

// getJSON sends a GET as an API client would and decodes the backend's echo.
func (f *routerFixture) getEcho(t *testing.T, host string, hdr map[string]string) (int, echoed) {
	t.Helper()
	resp := f.do(t, http.MethodGet, host, "/x", hdr, nil)
	defer resp.Body.Close()
	var e echoed
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("decode echo: %v", err)
		}
	}
	return resp.StatusCode, e
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
