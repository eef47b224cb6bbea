package router

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// fakeBudget holds every admission until let in, and reports a place.
type fakeBudget struct {
	mu       sync.Mutex
	waiting  map[string]chan struct{}
	place    int
	of       int
	refuse   error
	admitted int
}

func newFakeBudget() *fakeBudget { return &fakeBudget{waiting: map[string]chan struct{}{}} }

func (b *fakeBudget) Admit(ctx context.Context, id string) (func(), error) {
	b.mu.Lock()
	if b.refuse != nil {
		b.mu.Unlock()
		return nil, b.refuse
	}
	ch := make(chan struct{})
	b.waiting[id] = ch
	b.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b.mu.Lock()
	b.admitted++
	b.mu.Unlock()
	return func() {}, nil
}

func (b *fakeBudget) Place(id string) (int, int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.waiting[id]
	return b.place, b.of, ok
}

func (b *fakeBudget) letIn(id string) {
	b.mu.Lock()
	ch := b.waiting[id]
	delete(b.waiting, id)
	b.mu.Unlock()
	close(ch)
}

func (b *fakeBudget) queued(id string) bool {
	_, _, ok := b.Place(id)
	return ok
}

// refusal stands for the budget's TooLargeError.
type refusal struct{}

func (refusal) Error() string { return "too large" }
func (refusal) UserMessage() string {
	return "This app needs 2 GiB of memory, more than this host's whole memory budget."
}

func sleepingRoute(f *routerFixture, backends []string) {
	f.act.backends = backends
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", Title: "Acme Docs", State: domain.StatePassivated, Readiness: "/healthz"})
}

func TestQueuedActivationShowsItsPlaceAndHoldsAPIRequests(t *testing.T) {
	b := newFakeBudget()
	b.place, b.of = 2, 3
	// An activation timeout far shorter than the wait in the queue.
	f := newRouterFixture(t, RouterConfig{Budget: b, ActivationTimeout: 200 * time.Millisecond})
	sleepingRoute(f, []string{addr(newBackend(t, "web-1"))})
	host := "acme." + testDomain

	held := make(chan int, 1)
	go func() {
		code, _ := f.getEcho(t, host, map[string]string{"Accept": "application/json"})
		held <- code
	}()
	waitFor(t, 5*time.Second, "the start to wait in the queue", func() bool { return b.queued("t1") })

	resp := f.do(t, http.MethodGet, host, ReservedPrefix+"status", map[string]string{"Accept": "application/json"}, nil)
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st.Ready || st.Failed || st.Place != 2 || st.QueueLength != 3 || !strings.Contains(st.Message, "Waiting for memory: place 2 of 3") {
		t.Fatalf("status while queued: %+v", st)
	}
	// The held request outlives several activation timeouts in the queue.
	time.Sleep(600 * time.Millisecond)
	select {
	case code := <-held:
		t.Fatalf("a held request gave up in the queue with %d", code)
	default:
	}
	if n := f.act.calls.Load(); n != 0 {
		t.Fatalf("%d starts before the budget let the tenant in", n)
	}
	b.letIn("t1")
	if code := <-held; code != 200 {
		t.Fatalf("held request after admission: %d", code)
	}
	if n := f.act.calls.Load(); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
}

func TestRefusedByTheBudgetSaysWhy(t *testing.T) {
	b := newFakeBudget()
	b.refuse = refusal{}
	f := newRouterFixture(t, RouterConfig{Budget: b})
	sleepingRoute(f, []string{addr(newBackend(t, "web-1"))})
	host := "acme." + testDomain

	resp := f.do(t, http.MethodGet, host, "/x", map[string]string{"Accept": "application/json"}, nil)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "more than this host") {
		t.Fatalf("refused tenant: %d %s", resp.StatusCode, body)
	}
	resp = f.do(t, http.MethodGet, host, ReservedPrefix+"status", map[string]string{"Accept": "application/json"}, nil)
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !st.Failed || !strings.Contains(st.Message, "whole memory budget") {
		t.Fatalf("status of a refused tenant: %+v", st)
	}
	if f.act.calls.Load() != 0 {
		t.Fatal("a refused tenant was started")
	}
	var um userMessager
	if !errors.As(error(refusal{}), &um) {
		t.Fatal("refusal is not a userMessager")
	}
}
