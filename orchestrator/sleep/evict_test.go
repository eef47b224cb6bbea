package sleep

import (
	"context"
	"errors"
	"testing"
	"time"

	"appfactory/domain"
)

func TestEvictForTheMemoryBudget(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{})
	f.addRunning(t, "t1", "idle", "trial", time.Time{})
	f.addRunning(t, "t2", "busy", "trial", time.Time{})
	f.addRunning(t, "t3", "prod", "production", time.Time{})
	ctx := context.Background()

	ev, err := f.p.Evictable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ev["t1"] || !ev["t2"] || ev["t3"] {
		t.Fatalf("evictable %v: trials yes, production never", ev)
	}

	// An idle tenant is stopped at once, whatever its idle timeout.
	if err := f.p.Evict(ctx, "t1", "memory budget"); err != nil {
		t.Fatal(err)
	}
	if f.sleeper.count("passivate:t1") != 1 {
		t.Fatalf("calls %v, want passivate:t1", f.sleeper.calls)
	}
	if r, _ := f.routes.Get("idle"); r.State != domain.StatePassivated {
		t.Fatalf("route after eviction: %+v", r)
	}

	// One with a request in flight is left alone, its route untouched.
	end := f.activity.Begin("t2")
	if err := f.p.Evict(ctx, "t2", "memory budget"); !errors.Is(err, errEvictBusy) {
		t.Fatalf("evicting a busy tenant: %v", err)
	}
	end()
	if r, _ := f.routes.Get("busy"); r.State != domain.StateRunning || len(r.Backends) == 0 {
		t.Fatalf("busy tenant's route: %+v", r)
	}

	// A failed stop puts the route back in service.
	f.sleeper.onPassivate = func(string) error { return errors.New("engine gone") }
	if err := f.p.Evict(ctx, "t2", "memory budget"); err == nil {
		t.Fatal("a failed stop reported success")
	}
	if r, _ := f.routes.Get("busy"); r.State != domain.StateRunning || len(r.Backends) == 0 {
		t.Fatalf("route after a failed eviction: %+v", r)
	}
}
