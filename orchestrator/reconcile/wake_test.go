package reconcile

import (
	"context"
	goruntime "runtime"
	"slices"
	"testing"
	"time"

	"appfactory/domain"
)

// runReconciler starts Run with a resync too slow to matter and returns
// its stop, which cancels Run and waits for it to return.
func (e *fakeEnv) runReconciler(t *testing.T) (stop func()) {
	t.Helper()
	r, err := NewReconciler(ReconcilerOptions{
		DB: e.db, Runtime: e.rt, Blueprints: e.bp, Routes: e.routes,
		OrphanGrace: time.Hour, ReadyTimeout: 2 * time.Second,
		Resync: time.Hour,
		Ready:  func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitCalls waits until the runtime changes made so far include every one of want.
func (e *fakeEnv) waitCalls(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got = append(got, e.rt.TakeCalls()...)
		if !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) }) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("runtime changes %q, want them to include %q", got, want)
}

// TestWakeAllPassesEveryTenantFromRun: Wake("") is handled by Run's loop,
// which queues a pass of every tenant; once Run has returned it does
// nothing and starts no goroutine.
func TestWakeAllPassesEveryTenantFromRun(t *testing.T) {
	e := newFakeEnv(t)
	a := seedTenant(t, e.db, "acme", 1)
	b := seedTenant(t, e.db, "beta", 1)
	stop := e.runReconciler(t)
	e.waitCalls(t, "start acme/web-1", "start beta/web-1")
	for _, tn := range []string{a.ID, b.ID} {
		waitState(t, e, tn, domain.StateRunning)
	}

	e.rt.Kill(a.ID, "web-1", 137)
	e.rt.Kill(b.ID, "web-1", 137)
	e.r.Wake("")
	e.r.Wake("") // a second request while one is pending is folded into it
	e.waitCalls(t, "start acme/web-1", "start beta/web-1")

	stop()
	e.rt.Kill(a.ID, "web-1", 137)
	e.rt.TakeCalls()
	before := goruntime.NumGoroutine()
	for range 10 {
		e.r.Wake("")
	}
	time.Sleep(100 * time.Millisecond)
	if calls := e.rt.TakeCalls(); len(calls) > 0 {
		t.Errorf("Wake(\"\") after Run returned made engine calls %q", calls)
	}
	if after := goruntime.NumGoroutine(); after > before {
		t.Errorf("Wake(\"\") after Run returned left %d goroutines, %d before", after, before)
	}
}

// waitState waits until a tenant shows the actual state want.
func waitState(t *testing.T, e *fakeEnv, id, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if tn := e.tenant(t, id); tn.State == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("tenant %s is %s, want %s", id, e.tenant(t, id).State, want)
}
