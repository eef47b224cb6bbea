package router

import (
	"encoding/json"
	"errors"
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

func TestActivationSingleFlightUnderConcurrentRequests(t *testing.T) {
	for _, state := range []string{"passivated", domain.StatePaused, "failed"} {
		t.Run(state, func(t *testing.T) {
			f := newRouterFixture(t, RouterConfig{})
			f.act.delay = 150 * time.Millisecond
			f.act.backends = []string{addr(newBackend(t, "acme"))}
			f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", Title: "Acme Docs", State: state})
			const n = 100
			var wg sync.WaitGroup
			codes := make(chan int, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, e := f.getEcho(t, "acme.example.test", map[string]string{"Accept": "application/json"})
					if code == 200 && e.Name != "acme" {
						code = -1
					}
					codes <- code
				}()
			}
			wg.Wait()
			close(codes)
			for c := range codes {
				if c != http.StatusOK {
					t.Fatalf("a held request got %d", c)
				}
			}
			if calls := f.act.calls.Load(); calls != 1 {
				t.Fatalf("%d concurrent requests started the tenant %d times, want once", n, calls)
			}
		})
	}
}

func TestActivationHoldsRequestBodyUntilReady(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.act.delay = 50 * time.Millisecond
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: "passivated"})
	resp := f.do(t, http.MethodPost, "acme.example.test", "/docs", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"title":"kept"}`))
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"body_len":16`) {
		t.Fatalf("POST to a sleeping tenant: %d %s", resp.StatusCode, body)
	}
}

func TestBrowserGetsStartingPageThenApp(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	// The start is held until the test releases it: the starting page must
	// come while it is under way, not after it.
	f.act.release = make(chan struct{})
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", Title: "Acme <Docs>", State: "passivated"})
	nav := map[string]string{"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}

	// A router that held the browser until the start finished would answer
	// only at the activation timeout (60 s): 10 s is far from both that and
	// the normal few milliseconds.
	got := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, f.url+"/docs", nil)
		req.Host = "acme.example.test"
		for k, v := range nav {
			req.Header.Set(k, v)
		}
		resp, err := f.client.Do(req)
		if err != nil {
			t.Errorf("GET /docs: %v", err)
		}
		got <- resp
	}()
	var resp *http.Response
	select {
	case resp = <-got:
		if resp == nil {
			t.FailNow()
		}
	case <-time.After(10 * time.Second):
		close(f.act.release)
		t.Fatal("the starting page waited for the start: it must come at once")
	}
	page := readAll(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("starting page status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, want := range []string{"Starting Acme &lt;Docs&gt;", `data-ready-url="/__appfactory/status"`, "/__appfactory/static/app.js", "/__appfactory/static/app.css"} {
		if !strings.Contains(page, want) {
			t.Errorf("starting page lacks %q:\n%s", want, page)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("starting page CSP %q", csp)
	}

	// The page polls the status endpoint on the tenant host until ready:
	// waiting while the start is held, ready once it is released.
	status := func() Status {
		resp := f.do(t, http.MethodGet, "acme.example.test", "/__appfactory/status", map[string]string{"Accept": "application/json"}, nil)
		defer resp.Body.Close()
		var st Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatalf("status: %v", err)
		}
		return st
	}
	if st := status(); st.Ready || st.Failed || st.Message == "" {
		t.Fatalf("status while starting: %+v, want waiting with a message", st)
	}
	close(f.act.release)
	var st Status
	waitFor(t, 10*time.Second, "status ready", func() bool {
		st = status()
		return st.Ready || st.Failed
	})
	if !st.Ready {
		t.Fatalf("status: final %+v", st)
	}
	// The reload then opens the app.
	resp = f.do(t, http.MethodGet, "acme.example.test", "/docs", nav, nil)
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"acme"`) {
		t.Fatalf("after ready: %d %s", resp.StatusCode, body)
	}
	if calls := f.act.calls.Load(); calls != 1 {
		t.Errorf("page, polls and reload started the tenant %d times, want once", calls)
	}
}

func TestBrowserOnPausedTenantIsHeldNotShownAPage(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.act.delay = 20 * time.Millisecond
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StatePaused})
	resp := f.do(t, http.MethodGet, "acme.example.test", "/", map[string]string{"Accept": "text/html"}, nil)
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"acme"`) {
		t.Fatalf("browser on a paused tenant: %d %s", resp.StatusCode, body)
	}
}

func TestActivationTimeout(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{ActivationTimeout: 300 * time.Millisecond})
	f.act.block = true
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", Title: "Acme", State: "passivated"})
	start := time.Now()
	resp := f.do(t, http.MethodGet, "acme.example.test", "/api/things", map[string]string{"Accept": "application/json"}, nil)
	body := readAll(t, resp)
	took := time.Since(start)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("held request after timeout: %d %s", resp.StatusCode, body)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "unavailable" || e.Error.Message == "" {
		t.Errorf("timeout body %q (%v)", body, err)
	}
	// Held for the timeout, not less; the upper bound is far from the
	// normal 300 ms, so only a request held well past its timeout (not a
	// slow machine) fails it.
	if took < 250*time.Millisecond || took > 10*time.Second {
		t.Errorf("gave up after %s, want about 300ms", took)
	}
	// The starting page learns that it failed, and stops polling.
	waitFor(t, 2*time.Second, "status failed", func() bool {
		resp := f.do(t, http.MethodGet, "acme.example.test", "/__appfactory/status", nil, nil)
		var st Status
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		return st.Failed
	})
	// Within the back-off, requests fail at once rather than start again.
	resp = f.do(t, http.MethodGet, "acme.example.test", "/", map[string]string{"Accept": "text/html"}, nil)
	page := readAll(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "could not be started") {
		t.Errorf("after failure: %d %s", resp.StatusCode, page)
	}
	if calls := f.act.calls.Load(); calls != 1 {
		t.Errorf("activations: %d, want 1 within the back-off", calls)
	}
}

func TestActivationFailureIsReported(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{FailureBackoff: 50 * time.Millisecond})
	f.act.err = errors.New("image missing")
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: "passivated"})
	code, _ := f.getEcho(t, "acme.example.test", nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("failed activation -> %d", code)
	}
	// Within the back-off a request fails at once; after it, a request
	// tries again (and only that one starts the tenant).
	f.act.err = nil
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	waitFor(t, 5*time.Second, "a retry after the back-off", func() bool {
		code, _ := f.getEcho(t, "acme.example.test", nil)
		if code != 200 && code != http.StatusServiceUnavailable {
			t.Fatalf("retry -> %d", code)
		}
		return code == 200
	})
	if calls := f.act.calls.Load(); calls != 2 {
		t.Errorf("activations: %d, want 2", calls)
	}
}

func TestDialErrorOnRunningRouteActivates(t *testing.T) {
	// The route says running (from the database after a restart of the
	// host) but the containers are stopped: the first request starts them.
	forEachFront(t, RouterConfig{}, func(t *testing.T, f *routerFixture) {
		f.act.backends = []string{addr(newBackend(t, "acme"))}
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{deadAddr(t)}})
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, e := f.getEcho(t, "acme.example.test", nil); code != 200 || e.Name != "acme" {
					t.Errorf("request on a stopped running tenant: %d %q", code, e.Name)
				}
			}()
		}
		wg.Wait()
		if calls := f.act.calls.Load(); calls != 1 {
			t.Errorf("activations: %d, want 1", calls)
		}
		// A browser in the same situation gets the starting page.
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{deadAddr(t)}, Generation: 9})
		f.act.delay = 200 * time.Millisecond
		resp := f.do(t, http.MethodGet, "acme.example.test", "/", map[string]string{"Accept": "text/html"}, nil)
		page := readAll(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "data-ready-url") {
			t.Errorf("browser on a stopped running tenant: %d %s", resp.StatusCode, page)
		}
	})
}

// TestBackendsStoppedAndStartedOnTheSameAddress is an engine restarting a
// tenant's killed containers: they come back with the addresses and the
// generation they had. Held requests and browsers alike are served after
// one activation, never answered 502 because the balancer still counted
// the replica out from the dial it refused while it was down.
func TestBackendsStoppedAndStartedOnTheSameAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := ln.Addr().String()
	serve := func(ln net.Listener) *http.Server {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(echoed{Name: "acme", Path: r.URL.Path})
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	var mu sync.Mutex
	current := serve(ln)
	kill := func() {
		mu.Lock()
		defer mu.Unlock()
		_ = current.Close()
	}

	f := newRouterFixture(t, RouterConfig{ReprobeInterval: time.Hour})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{address}, Generation: 1})
	if code, _ := f.getEcho(t, "acme.example.test", nil); code != 200 {
		t.Fatalf("running tenant: %d", code)
	}

	// Killed behind the router's back: nothing listens there any more.
	kill()
	f.act.restart = func() {
		ln, err := net.Listen("tcp", address)
		if err != nil {
			t.Errorf("listen again on %s: %v", address, err)
			return
		}
		mu.Lock()
		current = serve(ln)
		mu.Unlock()
	}
	f.act.delay = 100 * time.Millisecond
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, e := f.getEcho(t, "acme.example.test", nil); code != 200 || e.Name != "acme" {
				t.Errorf("held request after the kill: %d %q", code, e.Name)
			}
		}()
	}
	wg.Wait()
	if calls := f.act.calls.Load(); calls != 1 {
		t.Errorf("activations: %d, want 1", calls)
	}
	if code, _ := f.getEcho(t, "acme.example.test", nil); code != 200 {
		t.Errorf("the request after the activation: %d", code)
	}

	// Killed again: a browser gets the starting page, which polls the
	// status until the tenant is ready, then loads the app.
	kill()
	html := map[string]string{"Accept": "text/html", "Sec-Fetch-Mode": "navigate"}
	resp := f.do(t, http.MethodGet, "acme.example.test", "/", html, nil)
	if page := readAll(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "data-ready-url") {
		t.Fatalf("browser after the second kill: %d %s", resp.StatusCode, page)
	}
	waitFor(t, 5*time.Second, "the status to say ready", func() bool {
		var st Status
		resp := f.do(t, http.MethodGet, "acme.example.test", ReservedPrefix+"status", nil, nil)
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Ready
	})
	resp = f.do(t, http.MethodGet, "acme.example.test", "/", html, nil)
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(body, `"acme"`) {
		t.Errorf("browser after the starting page: %d %s", resp.StatusCode, body)
	}
	if calls := f.act.calls.Load(); calls != 2 {
		t.Errorf("activations: %d, want 2", calls)
	}
}

func TestExpiredTenantIsNotStarted(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateExpired})
	for _, accept := range []string{"text/html", "application/json"} {
		resp := f.do(t, http.MethodGet, "acme.example.test", "/", map[string]string{"Accept": accept}, nil)
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusGone || !strings.Contains(body, "trial") {
			t.Errorf("expired (%s): %d %s", accept, resp.StatusCode, body)
		}
	}
	if f.act.calls.Load() != 0 {
		t.Error("an expired tenant was started")
	}
}

// A route the passivator has taken out of service (it is stopping the
// tenant) holds requests for the activation that follows, rather than
// proxying them to replicas about to stop.
func TestActivationOfRouteBeingPassivated(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.act.delay = 30 * time.Millisecond
	f.act.backends = []string{addr(newBackend(t, "fresh"))}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StatePassivating})
	code, e := f.getEcho(t, "acme.example.test", map[string]string{"Accept": "application/json"})
	if code != http.StatusOK || e.Name != "fresh" {
		t.Fatalf("request during passivation: %d from %q", code, e.Name)
	}
	if n := f.act.calls.Load(); n != 1 {
		t.Errorf("activations %d, want 1", n)
	}
}

// A start that reaches the tenant before the passivator's stop changes
// nothing (the route stays out of service): the flight waits for the stop
// to end and starts the tenant again, and the held request is served.
func TestActivationBeforeThePassivatorsStopStartsAgainAfterIt(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{})
	f.act.backends = []string{addr(newBackend(t, "fresh"))}
	var first atomic.Bool
	f.act.restart = func() {
		if first.CompareAndSwap(false, true) {
			// The stop comes after this no-op start and ends a moment later.
			go func() {
				time.Sleep(50 * time.Millisecond)
				r, _ := f.routes.Get("acme")
				r.State = domain.StatePassivated
				f.routes.Set(r)
			}()
			return
		}
		r, _ := f.routes.Get("acme")
		r.State, r.Backends = domain.StateRunning, f.act.backends
		r.Generation++
		f.routes.Set(r)
	}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StatePassivating})
	code, e := f.getEcho(t, "acme.example.test", map[string]string{"Accept": "application/json"})
	if code != http.StatusOK || e.Name != "fresh" {
		t.Fatalf("request that came before the stop: %d from %q", code, e.Name)
	}
	if n := f.act.calls.Load(); n != 2 {
		t.Errorf("activations %d, want 2: the no-op one, and one after the stop", n)
	}
}
