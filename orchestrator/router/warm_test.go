package router

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// events records the events the router stores.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) AddEvent(_ context.Context, tenantID, kind, message string) error {
	e.mu.Lock()
	e.got = append(e.got, tenantID+" "+kind+" "+message)
	e.mu.Unlock()
	return nil
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

func TestWarmStartsSleepingTenantOnceWithRequests(t *testing.T) {
	ev := &events{}
	f := newRouterFixture(t, RouterConfig{Events: ev})
	f.act.release = make(chan struct{})
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", Title: "Acme Docs", State: domain.StatePassivated})

	if !f.router.Warm("t1", "its owner opened its page") {
		t.Fatal("Warm of a passivated tenant started nothing")
	}
	if !f.router.Warm("t1", "its owner signed in") {
		t.Fatal("a second Warm while starting did not join the activation")
	}
	// A request that comes while the warm-up runs is held by the same start.
	codes := make(chan int, 1)
	go func() {
		code, _ := f.getEcho(t, "acme.example.test", map[string]string{"Accept": "application/json"})
		codes <- code
	}()
	close(f.act.release)
	if code := <-codes; code != http.StatusOK {
		t.Fatalf("request during the warm-up: %d", code)
	}
	if n := f.act.calls.Load(); n != 1 {
		t.Fatalf("warm-ups and a request started the tenant %d times, want once", n)
	}
	if f.router.Warm("t1", "again") {
		t.Error("Warm of a running tenant reported a start")
	}
	if f.router.Warm("nobody", "x") {
		t.Error("Warm of an unknown tenant reported a start")
	}
	f.routes.Set(route.Route{TenantID: "t2", Slug: "gone", State: domain.StateExpired})
	if f.router.Warm("t2", "x") {
		t.Error("Warm of an expired trial reported a start")
	}
	got := ev.all()
	if len(got) != 1 || got[0] != "t1 desired Warming up: its owner opened its page." {
		t.Errorf("events %q, want the one warm-up with its reason", got)
	}
}
