package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/reconcile"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/sleep"
	"appfactory/web"

	// countingActivator counts the activations that reach the reconciler.
	"appfactory/orchestrator/router"
)

type countingActivator struct {
	inner *reconcile.Reconciler
	calls atomic.Int64
}

func (c *countingActivator) Activate(ctx context.Context, id string) error {
	c.calls.Add(1)
	return c.inner.Activate(ctx, id)
}

// countingResumer also passes the pause tier's fast path on.
type countingResumer struct {
	countingActivator
	resumes atomic.Int64
}

func (c *countingResumer) Resume(ctx context.Context, id string) error {
	c.resumes.Add(1)
	return c.inner.Resume(ctx, id)
}

// liveRouter is the router, activity and passivator over a real reconciler
// and engine, served on a loopback listener.
type liveRouter struct {
	*factoryEnv
	act      *countingResumer
	activity *route.Activity
	router   *router.Router
	// url is the front's address, like http://127.0.0.1:PORT.
	url string
}

// serveFront serves rt as serve does (web's server: the lean loop with the
// router's raw path, net/http behind it) until the test ends, and returns
// its URL.
func serveFront(t *testing.T, rt *router.Router) string {
	t.Helper()
	ws := web.New(web.Options{Domain: "localhost"})
	ws.SetTenantRouter(rt)
	ws.SetTenantFast(rt.ServeHead)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ws.ListenAndServe(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("front: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func newLiveRouter(t *testing.T) *liveRouter { return newLiveRouterOn(t, false) }

// newLiveRouterOn is newLiveRouter on the swarm runtime when onSwarm is set.
func newLiveRouterOn(t *testing.T, onSwarm bool) *liveRouter {
	t.Helper()
	e := newFactoryEnvOn(t, onSwarm)
	lr := &liveRouter{factoryEnv: e, act: &countingResumer{countingActivator: countingActivator{inner: e.r}}}
	lr.activity = route.NewActivity(e.db, nil)
	lr.router = router.NewRouter(router.RouterConfig{
		Slug:              func(h string) (string, bool) { return web.TenantSlug(h, "localhost") },
		Pages:             router.Pages{Error: web.WriteTenantError, Starting: web.WriteStartingPage},
		Static:            web.TenantStatic(),
		ActivationTimeout: 30 * time.Second,
		Activations:       e.db,
		Dial:              e.dial(),
	}, e.routes, lr.act, lr.activity)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lr.router.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("router Run: %v", err)
		}
	})
	lr.url = serveFront(t, lr.router) // stops before the router: cleanups run last first
	return lr
}

// startPassivator runs a passivator with a short idle timeout until the test ends.
func (lr *liveRouter) startPassivator(t *testing.T, idle time.Duration) *sleep.Passivator {
	t.Helper()
	p := sleep.NewPassivator(sleep.PassivatorConfig{
		Policy:        func(string) (time.Duration, time.Duration) { return time.Hour, 0 },
		IdleOverride:  idle,
		PauseOverride: 0,
		Interval:      100 * time.Millisecond,
	}, lr.routes, lr.activity, lr.r, lr.db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func (lr *liveRouter) request(t *testing.T, slug, path, accept string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, lr.url+path, nil)
	req.Host = slug + ".localhost:8080"
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	c := &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", slug, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// starts counts the engine's container start events of a tenant by name.
// It returns once the engine streams the tenant's events, and stop returns
// the counts once every event before it has arrived: both known from a
// marker container (created, never started, outside the instance) whose
// creation the stream delivers, in order with the rest.
func (lr *liveRouter) watchStarts(t *testing.T, tenantID string) (stop func() map[string]int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	evs, _ := lr.D.Events(ctx, map[string]string{docker.LabelTenant: tenantID})
	counts := map[string]int{}
	created := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range evs {
			switch {
			case ev.Type == "container" && ev.Action == "start":
				counts[ev.Name]++
			case ev.Type == "container" && ev.Action == "create":
				select {
				case created <- ev.Name:
				default:
				}
			}
		}
	}()
	markers := 0
	barrier := func() {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; {
			markers++
			name := lr.Name(fmt.Sprintf("marker-%d", markers))
			lr.Container(t, docker.ContainerSpec{Name: name, Image: platformImages[0], Labels: map[string]string{docker.LabelTenant: tenantID}})
			for wait := time.After(200 * time.Millisecond); name != ""; {
				select {
				case got := <-created:
					if got == name {
						return
					}
				case <-wait:
					name = ""
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the event stream delivered no marker in 20 s")
			}
		}
	}
	barrier()
	return func() map[string]int {
		barrier()
		cancel()
		<-done
		return counts
	}
}

func TestLiveRouterPassivatesAndActivatesOnRequest(t *testing.T) {
	lr := newLiveRouter(t)
	tn := lr.deploy(t, lr.app(t, "Sleepy", "1.0", "trial", 1))
	title := "Sleepy Docs " + lr.ID
	if code, body := lr.request(t, tn.Slug, "/", "text/html"); code != 200 || !strings.Contains(body, title) {
		t.Fatalf("running tenant through the router: %d", code)
	}
	if code, _ := lr.request(t, "nobody", "/", ""); code != 404 {
		t.Fatalf("unknown host: %d", code)
	}

	lr.startPassivator(t, time.Second)
	lr.waitState(t, tn.ID, domain.StatePassivated, 20*time.Second)
	if cs, err := lr.D.ListContainers(context.Background(), map[string]string{docker.LabelTenant: tn.ID}, false); err != nil || len(cs) != 0 {
		t.Fatalf("%d containers still run after passivation (list: %v)", len(cs), err)
	}

	// A herd on the sleeping tenant: every request served, one start each.
	stop := lr.watchStarts(t, tn.ID)
	const herd = 50
	var wg sync.WaitGroup
	codes := make(chan int, herd)
	start := time.Now()
	for range herd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := lr.request(t, tn.Slug, "/healthz", "application/json")
			codes <- code
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("herd request got %d", c)
		}
	}
	counts := stop()
	if lr.act.calls.Load() != 1 {
		t.Errorf("herd of %d: %d activations, want 1", herd, lr.act.calls.Load())
	}
	for name, n := range counts {
		if n != 1 {
			t.Errorf("container %s started %d times", name, n)
		}
	}
	if len(counts) != 2 {
		t.Errorf("started containers %v, want store and web once each", counts)
	}
	t.Logf("herd of %d on a passivated tenant served in %s", herd, took)

	// A browser gets the starting page, which follows progress to the app.
	lr.waitState(t, tn.ID, domain.StatePassivated, 20*time.Second)
	code, page := lr.request(t, tn.Slug, "/", "text/html")
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "Starting "+title) {
		t.Fatalf("browser on a sleeping tenant: %d %.300s", code, page)
	}
	lr.waitStatusReady(t, tn.Slug, 30*time.Second)
	if code, body := lr.request(t, tn.Slug, "/", "text/html"); code != 200 || !strings.Contains(body, title) {
		t.Fatalf("after the starting page: %d", code)
	}
	if n, err := lr.db.CountActivations(context.Background(), tn.ID); err != nil || n < 2 {
		t.Errorf("%d activations recorded (%v), want 2", n, err)
	}
}

func TestLiveRouterPauseTierAndStoppedBehindOurBack(t *testing.T) { testPauseTier(t, false) }

// The same on the swarm runtime, whose pause freezes the tasks' containers.
func TestSwarmPauseTierAndStoppedBehindOurBack(t *testing.T) { testPauseTier(t, true) }

func testPauseTier(t *testing.T, onSwarm bool) {
	lr := newLiveRouterOn(t, onSwarm)
	tn := lr.deploy(t, lr.app(t, "Paws", "1.0", "trial", 1))
	ctx := context.Background()

	if err := lr.r.Pause(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := lr.routes.Get(tn.Slug); r.State != domain.StatePaused {
		t.Fatalf("route after pause: %+v", r)
	}
	start := time.Now()
	if code, _ := lr.request(t, tn.Slug, "/healthz", ""); code != 200 {
		t.Fatalf("paused tenant: %d", code)
	}
	t.Logf("resume from pause to first answer: %s", time.Since(start))
	lr.waitState(t, tn.ID, domain.StateRunning, 10*time.Second)
	if lr.act.resumes.Load() != 1 || lr.act.calls.Load() != 0 {
		t.Errorf("resumes %d, activations %d: want the fast path once", lr.act.resumes.Load(), lr.act.calls.Load())
	}
	if cs, _ := lr.D.ListContainers(ctx, map[string]string{docker.LabelTenant: tn.ID}, false); len(cs) != 2 || cs[0].Paused || cs[1].Paused {
		t.Errorf("containers after resume: %+v", cs)
	}
	// The next reconcile passes find it converged: it stays running.
	time.Sleep(1500 * time.Millisecond)
	if got, _ := lr.db.TenantByID(ctx, tn.ID); got.State != domain.StateRunning || got.Paused {
		t.Errorf("after reconcile passes: state %s paused %v", got.State, got.Paused)
	}

	// The web container stops behind the reconciler's back (an engine
	// restart): the route still says running; a request starts it again.
	r, _ := lr.routes.Get(tn.Slug)
	cs, _ := lr.D.ListContainers(ctx, map[string]string{docker.LabelTenant: tn.ID, docker.LabelService: "web"}, true)
	for _, c := range cs {
		if err := lr.D.Stop(ctx, c.ID, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := lr.request(t, tn.Slug, "/healthz", ""); code != 200 {
		t.Fatalf("after its containers were stopped: %d (route was %+v)", code, r)
	}
}

func TestLiveRouterExpiryAndDeletion(t *testing.T) {
	lr := newLiveRouter(t)
	tn := lr.deploy(t, lr.app(t, "Brief", "1.0", "trial", 1))
	ctx := context.Background()
	if err := lr.db.SetTenantExpiry(ctx, tn.ID, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	p := lr.startPassivator(t, time.Hour)
	lr.waitState(t, tn.ID, domain.StateExpired, 20*time.Second)
	if code, body := lr.request(t, tn.Slug, "/", "text/html"); code != http.StatusGone || !strings.Contains(body, "trial") {
		t.Fatalf("expired tenant: %d", code)
	}
	// Reconcile passes (every 500 ms here) leave it expired and stopped.
	time.Sleep(2 * time.Second)
	got, _ := lr.db.TenantByID(ctx, tn.ID)
	if got.State != domain.StateExpired {
		t.Fatalf("state after reconcile passes: %s", got.State)
	}
	if cs, err := lr.D.ListContainers(ctx, map[string]string{docker.LabelTenant: tn.ID}, false); err != nil || len(cs) != 0 {
		t.Fatalf("%d containers of an expired trial run (list: %v)", len(cs), err)
	}
	if lr.act.calls.Load() != 0 {
		t.Fatal("an expired trial was started")
	}

	// Extended: the next request starts it.
	if _, err := p.Extend(ctx, tn.ID, 2); err != nil {
		t.Fatal(err)
	}
	if code, _ := lr.request(t, tn.Slug, "/healthz", ""); code != 200 {
		t.Fatalf("extended trial: %d", code)
	}

	// Deleted: its host is unknown once the reconciler has removed it.
	if err := lr.svc.Delete(ctx, got, lr.user); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, ok := lr.routes.Get(tn.Slug); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("route still there 30 s after delete")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := lr.request(t, tn.Slug, "/", ""); code != 404 {
		t.Fatalf("deleted tenant: %d", code)
	}
}

// TestLiveRouterServesAfterDockerKill kills every container of a running
// tenant behind the router's back, as an engine hiccup or an operator
// would. With the reconciler repairing, the next request is served. With
// nothing repairing, the request path does it: an API client's request is
// held through one activation and served, and after a second kill a
// browser gets the starting page, whose status turns ready, then the app.
func TestLiveRouterServesAfterDockerKill(t *testing.T) { testServesAfterKill(t, false) }

// The same on the swarm runtime, where swarm also replaces the killed tasks.
func TestSwarmServesAfterDockerKill(t *testing.T) { testServesAfterKill(t, true) }

func testServesAfterKill(t *testing.T, onSwarm bool) {
	lr := newLiveRouterOn(t, onSwarm)
	tn := lr.deploy(t, lr.app(t, "Killed", "1.0", "trial", 1))
	ctx := context.Background()
	kill := func() {
		t.Helper()
		cs, err := lr.D.ListContainers(ctx, map[string]string{docker.LabelTenant: tn.ID}, false)
		if err != nil || len(cs) == 0 {
			t.Fatalf("running containers: %d, %v", len(cs), err)
		}
		for _, c := range cs {
			if err := lr.D.Kill(ctx, c.ID, "KILL"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code, _ := lr.request(t, tn.Slug, "/healthz", ""); code != 200 {
		t.Fatalf("running tenant: %d", code)
	}
	kill()
	if code, body := lr.request(t, tn.Slug, "/healthz", "application/json"); code != 200 {
		t.Fatalf("request after docker kill, reconciler running: %d %s", code, body)
	}

	// No reconcile loop from here on: only the router's activation (which
	// runs one reconcile pass) can bring the tenant back.
	lr.stop()
	before := lr.act.calls.Load()
	kill()
	if code, body := lr.request(t, tn.Slug, "/healthz", "application/json"); code != 200 {
		t.Fatalf("held API request after docker kill: %d %s", code, body)
	}
	if n := lr.act.calls.Load() - before; n != 1 {
		t.Errorf("activations after the kill: %d, want 1", n)
	}

	kill()
	code, page := lr.request(t, tn.Slug, "/", "text/html")
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "data-ready-url") {
		t.Fatalf("browser after docker kill: %d, want the starting page", code)
	}
	lr.waitStatusReady(t, tn.Slug, 30*time.Second)
	title := "Killed Docs " + lr.ID
	if code, body := lr.request(t, tn.Slug, "/", "text/html"); code != 200 || !strings.Contains(body, title) {
		t.Fatalf("browser after the starting page: %d", code)
	}
	if n := lr.act.calls.Load() - before; n != 2 {
		t.Errorf("activations after the second kill: %d, want 2", n)
	}
}

// waitStatusReady polls the starting page's status, as the page does,
// until it says ready; it fails the test if it says failed or never ready.
func (lr *liveRouter) waitStatusReady(t *testing.T, slug string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, body := lr.request(t, slug, router.ReservedPrefix+"status", "application/json")
		var st router.Status
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("status %q: %v", body, err)
		}
		if st.Failed {
			t.Fatalf("activation failed: %+v", st)
		}
		if st.Ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status not ready after %s: %+v", within, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
