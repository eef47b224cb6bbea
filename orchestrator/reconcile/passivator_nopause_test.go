package reconcile

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/sleep"
)

// On a runtime that cannot pause (Capabilities().Pause false), the
// passivator leaves the pause tier out and the reconciler stops instead of
// pausing: the tenant stays up until its idle timeout, then is passivated,
// and the engine never sees a pause.
func TestPassivatorSkipsPauseTierWhenRuntimeCannotPause(t *testing.T) {
	e := newFakeEnv(t)
	e.rt.NoPause = true
	ctx := context.Background()
	tn := seedTenant(t, e.db, "acme", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	activity := route.NewActivity(nil, nil)
	activity.Now = clock
	p := sleep.NewPassivator(sleep.PassivatorConfig{
		PauseOverride: -1, Now: clock,
		Policy: func(string) (time.Duration, time.Duration) { return 30 * time.Minute, 2 * time.Minute },
	}, e.routes, activity, e.r, e.db)
	check := func() {
		t.Helper()
		var wg sync.WaitGroup
		if err := p.Check(ctx, &wg); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
	paused := func(calls []string) bool {
		return slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "pause ") })
	}

	e.rt.TakeCalls()
	advance(5 * time.Minute) // past the pause delay, short of the idle timeout
	check()
	if calls := e.rt.TakeCalls(); paused(calls) {
		t.Fatalf("paused on a runtime without the pause tier: %v", calls)
	}
	if got := e.tenant(t, tn.ID); got.State != domain.StateRunning || got.Paused {
		t.Fatalf("after 5 min: state %s paused=%v, want running", got.State, got.Paused)
	}

	advance(30 * time.Minute)
	check()
	calls := e.rt.TakeCalls()
	if paused(calls) {
		t.Fatalf("paused on a runtime without the pause tier: %v", calls)
	}
	wantCalls(t, calls, "stop acme/web-1", "stop acme/store-1")
	if got := e.tenant(t, tn.ID); got.State != domain.StatePassivated || got.DesiredState != domain.DesiredPassivated {
		t.Fatalf("after 35 min: state %s desired %s, want passivated", got.State, got.DesiredState)
	}
}

// Asked to pause directly (the router's benchmark, an operator), the
// reconciler over a runtime without the pause tier passivates instead.
func TestReconcilePauseWithoutPauseTierPassivates(t *testing.T) {
	e := newFakeEnv(t)
	e.rt.NoPause = true
	tn := seedTenant(t, e.db, "acme", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	e.rt.TakeCalls()
	if err := e.r.Pause(context.Background(), tn.ID); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, e.rt.TakeCalls(), "stop acme/web-1", "stop acme/store-1")
	if got := e.tenant(t, tn.ID); got.State != domain.StatePassivated || got.Paused {
		t.Fatalf("state %s paused=%v, want passivated", got.State, got.Paused)
	}
}
