package orchestrator

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/router"
	"appfactory/orchestrator/sleep"
)

// burst sends n requests at once to a tenant through the router and
// returns their status codes.
func (lr *liveRouter) burst(t *testing.T, slug string, n int) []int {
	t.Helper()
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = lr.request(t, slug, "/healthz", "application/json")
		}()
	}
	wg.Wait()
	return codes
}

func allOK(codes []int) bool {
	for _, c := range codes {
		if c != 200 {
			return false
		}
	}
	return true
}

// A request that arrives while its tenant is being stopped is held until
// the stop is over and the tenant started again, then served: never a 502.
func TestLiveRouterHoldsRequestsDuringStop(t *testing.T) {
	lr := newLiveRouter(t)
	tn := lr.deploy(t, lr.app(t, "Drowsy", "1.0", "trial", 1))
	// The moment the passivator takes the route out of service, while the
	// engine stops the containers, a burst of requests arrives.
	got := make(chan []int, 1)
	var once sync.Once
	lr.routes.Subscribe(func(r route.Route, present bool) {
		if present && r.TenantID == tn.ID && r.State == domain.StatePassivating {
			once.Do(func() { go func() { got <- lr.burst(t, tn.Slug, 20) }() })
		}
	})
	lr.startPassivator(t, time.Second)
	var codes []int
	select {
	case codes = <-got:
	case <-time.After(60 * time.Second):
		t.Fatal("the tenant was not passivated within 60 s")
	}
	if !allOK(codes) {
		t.Fatalf("requests that arrived during the stop got %v, want all 200", codes)
	}
	if n := lr.act.calls.Load(); n != 1 {
		t.Errorf("%d activations after the stop, want one", n)
	}
	evs, _ := lr.db.ListEvents(context.Background(), tn.ID, 0, 200)
	var stopped bool
	for _, e := range evs {
		stopped = stopped || strings.Contains(e.Message, "Passivating")
	}
	if !stopped {
		t.Error("no passivation among the events: the burst did not meet a stop")
	}
}

// Requests arriving while the passivator pauses a tenant are held and
// served (the tenant resumed at once), and so are those that resume it.
func TestLiveRouterHoldsRequestsDuringPauseAndResume(t *testing.T) {
	lr := newLiveRouter(t)
	tn := lr.deploy(t, lr.app(t, "Blink", "1.0", "trial", 1))
	got := make(chan []int, 1)
	var once sync.Once
	lr.routes.Subscribe(func(r route.Route, present bool) {
		if present && r.TenantID == tn.ID && r.State == domain.StatePassivating {
			once.Do(func() { go func() { got <- lr.burst(t, tn.Slug, 20) }() })
		}
	})
	p := sleep.NewPassivator(sleep.PassivatorConfig{
		Policy:        func(string) (time.Duration, time.Duration) { return time.Hour, time.Second },
		PauseOverride: -1, // the environment's own pause delay
		Interval:      100 * time.Millisecond,
	}, lr.routes, lr.activity, lr.r, lr.db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case codes := <-got:
		if !allOK(codes) {
			t.Fatalf("requests that arrived during the pause got %v, want all 200", codes)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the tenant was not paused within 60 s")
	}
	// Idle again, it is paused; a burst resumes it, every request served.
	lr.waitPaused(t, tn.Slug, 30*time.Second)
	if codes := lr.burst(t, tn.Slug, 20); !allOK(codes) {
		t.Fatalf("requests resuming the tenant got %v", codes)
	}
	if lr.act.resumes.Load() == 0 {
		t.Error("the paused tenant was not resumed by the pause tier's fast path")
	}
}

// waitPaused waits for a tenant's route to say paused.
func (lr *liveRouter) waitPaused(t *testing.T, slug string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		if r, _ := lr.routes.Get(slug); r.State == domain.StatePaused {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not paused within %s", slug, within)
		}
	}
}

// Warm starts a sleeping tenant before any request, and says why.
func TestLiveRouterWarmsUpBeforeTheFirstRequest(t *testing.T) {
	lr := newLiveRouter(t)
	tn := lr.deploy(t, lr.app(t, "Eager", "1.0", "trial", 1))
	ctx := context.Background()
	if err := lr.r.Passivate(ctx, tn.ID, "test"); err != nil {
		t.Fatal(err)
	}
	lr.waitState(t, tn.ID, domain.StatePassivated, 20*time.Second)
	if !lr.router.Warm(tn.ID, "its owner opened its page") {
		t.Fatal("Warm started nothing")
	}
	lr.waitState(t, tn.ID, domain.StateRunning, 30*time.Second)
	// Its first request finds it ready: no activation of its own.
	before := lr.act.calls.Load()
	if code, _ := lr.request(t, tn.Slug, "/healthz", ""); code != 200 {
		t.Fatalf("first request after the warm-up: %d", code)
	}
	if lr.act.calls.Load() != before {
		t.Error("the first request after a warm-up started the tenant again")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := lr.db.TenantWakeFacts(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.LastWokenBy == router.WarmUpPrefix+"its owner opened its page" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("what woke it: %q", f.LastWokenBy)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
