package sleep

import (
	"context"
	"sync"
	"testing"
	"time"

	"appfactory/store"
)

func setPolicy(t *testing.T, db *store.DB, id string, p store.TenantPolicy) {
	t.Helper()
	if err := db.SetTenantPolicy(context.Background(), id, p, "staff"); err != nil {
		t.Fatal(err)
	}
}

func TestPassivatorTenantPolicy(t *testing.T) {
	var mu sync.Mutex
	var warmed []string
	f := newPassivatorFixture(t, PassivatorConfig{PauseOverride: -1, Warm: func(id, reason string) {
		mu.Lock()
		warmed = append(warmed, id+": "+reason)
		mu.Unlock()
	}})
	// A Monday at 10:00 in Paris.
	paris, _ := time.LoadLocation("Europe/Paris")
	f.now = time.Date(2026, 12, 7, 10, 0, 0, 0, paris)
	f.p.started = f.now
	f.addRunning(t, "short", "short1", "demo", time.Time{})    // idle 5 min of its own
	f.addRunning(t, "never", "never1", "trial", time.Time{})   // never stopped
	f.addRunning(t, "nopause", "np1", "trial", time.Time{})    // pause tier off
	f.addRunning(t, "pauseon", "po1", "demo", time.Time{})     // pause tier on in an env without one
	f.addRunning(t, "office", "office1", "trial", time.Time{}) // kept warm in office hours
	five := 5 * time.Minute
	zero := time.Duration(0)
	setPolicy(t, f.db, "short", store.TenantPolicy{Idle: &five})
	setPolicy(t, f.db, "never", store.TenantPolicy{Idle: &zero, Pause: store.PauseOff})
	setPolicy(t, f.db, "nopause", store.TenantPolicy{Pause: store.PauseOff})
	setPolicy(t, f.db, "pauseon", store.TenantPolicy{Pause: store.PauseOn})
	setPolicy(t, f.db, "office", store.TenantPolicy{KeepWarm: "mon-fri 09:00-18:00 Europe/Paris"})

	f.advance(3 * time.Minute)
	f.check(t)
	if f.sleeper.count("pause:nopause") != 0 || f.sleeper.count("pause:office") != 0 {
		t.Errorf("after 3 min: %v, want no pause for the pause-off and kept-warm tenants", f.sleeper.calls)
	}
	f.advance(3 * time.Minute) // 6 min
	f.check(t)
	if f.sleeper.count("passivate:short") != 1 || f.sleeper.count("pause:pauseon") != 1 {
		t.Errorf("after 6 min: %v, want short1 stopped (own 5 min) and po1 paused (its own pause tier, 5 min)", f.sleeper.calls)
	}
	f.advance(8 * time.Hour) // 18:06 Paris: office hours are over
	f.check(t)
	f.check(t)
	for _, id := range []string{"nopause", "office"} {
		if f.sleeper.count("passivate:"+id) != 1 {
			t.Errorf("%s not stopped after its environment's 30 min: %v", id, f.sleeper.calls)
		}
	}
	if n := f.sleeper.count("pause:never") + f.sleeper.count("passivate:never"); n != 0 {
		t.Errorf("a tenant that never sleeps was put to sleep: %v", f.sleeper.calls)
	}
	mu.Lock()
	if len(warmed) != 0 {
		t.Errorf("warmed outside its window: %v", warmed)
	}
	mu.Unlock()
	// The next morning at 09:00 the office tenant is started before anyone asks.
	f.advance(14*time.Hour + 54*time.Minute)
	f.check(t)
	mu.Lock()
	defer mu.Unlock()
	if len(warmed) != 1 || warmed[0] != "office: keep-warm window mon-fri 09:00-18:00 Europe/Paris" {
		t.Errorf("at 09:00 warmed %v, want the office tenant once", warmed)
	}
}

func TestEffectivePolicy(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{PauseOverride: -1, IdleOverride: 10 * time.Minute})
	ctx := context.Background()
	e, err := f.p.Effective(ctx, "trial", store.TenantPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Idle != 10*time.Minute || e.Pause != 2*time.Minute || e.OwnIdle || e.OwnPause {
		t.Errorf("trial defaults under --idle-timeout 10m: %+v", e)
	}
	hour := time.Hour
	e, _ = f.p.Effective(ctx, "trial", store.TenantPolicy{Idle: &hour, Pause: store.PauseOff})
	if e.Idle != time.Hour || e.Pause != 0 || !e.OwnIdle || !e.OwnPause {
		t.Errorf("a tenant's own policy wins over the server's override: %+v", e)
	}
	f.sleeper.noPause = true
	e, _ = f.p.Effective(ctx, "demo", store.TenantPolicy{Pause: store.PauseOn})
	if e.Pause != 0 {
		t.Errorf("pause on a runtime without the tier: %+v", e)
	}
	if err := f.db.SetTenantPolicy(ctx, "nobody", store.TenantPolicy{Pause: store.PauseOn}, "x"); err == nil {
		t.Error("a policy for an unknown tenant was stored")
	}
}
