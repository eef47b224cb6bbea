package sleep

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// insertTenant writes a tenant (with its owner and app, the first time) in
// state running.
func insertTenant(t *testing.T, db *store.DB, id, slug, env string, expires time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.UserByID(ctx, "u1"); err != nil {
		if err := db.CreateUser(ctx, &store.User{ID: "u1", Email: "u1@example.test", Name: "U", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateApp(ctx, &store.App{ID: "a1", OwnerID: "u1", Name: "App"}); err != nil {
			t.Fatal(err)
		}
	}
	tn := &store.Tenant{ID: id, AppID: "a1", OwnerID: "u1", CreatedBy: "u1", Slug: slug, Title: slug + " Docs",
		Platform: "contentapp", Version: "1", Environment: env, Replicas: 1,
		DesiredState: domain.DesiredRunning, State: domain.StateRunning, ExpiresAt: store.TimeOf(expires)}
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
}

// countExpired counts the events that say "expired", in any case.
func countExpired(evs []store.Event) int {
	n := 0
	for _, e := range evs {
		if strings.Contains(strings.ToLower(e.Message), "expired") {
			n++
		}
	}
	return n
}

// tenant reads a tenant back.
func tenant(t *testing.T, db *store.DB, id string) *store.Tenant {
	t.Helper()
	tn, err := db.TenantByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// fakeSleeper stands for the reconciler: it records calls and updates the
// route table as the reconciler does.
type fakeSleeper struct {
	routes *route.Routes
	mu     sync.Mutex
	calls  []string // "passivate:<id>", "pause:<id>", "wake:<id>"
	// onPassivate, when set, runs first in Passivate; its error is returned.
	onPassivate func(id string) error
	// noPause stands for a runtime without the pause tier.
	noPause bool
}

func (f *fakeSleeper) CanPause() bool { return !f.noPause }

func (f *fakeSleeper) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeSleeper) setState(id, state string) {
	for _, r := range f.routes.All() {
		if r.TenantID == id {
			r.State = state
			if state != domain.StatePaused {
				r.Backends = nil
			}
			f.routes.Set(r)
		}
	}
}

func (f *fakeSleeper) Passivate(_ context.Context, id, _ string) error {
	f.record("passivate:" + id)
	if f.onPassivate != nil {
		if err := f.onPassivate(id); err != nil {
			return err
		}
	}
	f.setState(id, "passivated")
	return nil
}

func (f *fakeSleeper) Pause(_ context.Context, id string) error {
	f.record("pause:" + id)
	f.setState(id, domain.StatePaused)
	return nil
}

func (f *fakeSleeper) Wake(id string) { f.record("wake:" + id) }

func (f *fakeSleeper) count(s string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == s {
			n++
		}
	}
	return n
}

type passivatorFixture struct {
	db       *store.DB
	routes   *route.Routes
	activity *route.Activity
	sleeper  *fakeSleeper
	p        *Passivator
	now      time.Time
	mu       sync.Mutex
}

func (f *passivatorFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *passivatorFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// check runs one pass and waits for what it started.
func (f *passivatorFixture) check(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	if err := f.p.Check(context.Background(), &wg); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func newPassivatorFixture(t *testing.T, cfg PassivatorConfig) *passivatorFixture {
	t.Helper()
	f := &passivatorFixture{db: openDB(t), routes: route.NewRoutes(), now: time.Now()}
	f.activity = route.NewActivity(nil, nil)
	f.activity.Now = f.clock
	f.sleeper = &fakeSleeper{routes: f.routes}
	cfg.Now = f.clock
	if cfg.Policy == nil {
		cfg.Policy = func(env string) (time.Duration, time.Duration) {
			switch env {
			case "trial":
				return 30 * time.Minute, 2 * time.Minute
			case "demo":
				return time.Hour, 0
			}
			return 0, 0 // production
		}
	}
	f.p = NewPassivator(cfg, f.routes, f.activity, f.sleeper, f.db)
	return f
}

func (f *passivatorFixture) addRunning(t *testing.T, id, slug, env string, expires time.Time) {
	t.Helper()
	insertTenant(t, f.db, id, slug, env, expires)
	f.routes.Set(route.Route{TenantID: id, Slug: slug, State: domain.StateRunning, Backends: []string{"10.0.0.2:80"}})
}

func TestPassivatorSleepTiers(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{PauseOverride: -1})
	f.addRunning(t, "t1", "trial1", "trial", time.Time{})
	f.addRunning(t, "t2", "prod1", "production", time.Time{})
	f.addRunning(t, "t3", "busy1", "trial", time.Time{})
	f.addRunning(t, "t4", "demo1", "demo", time.Time{})
	end := f.activity.Begin("t3") // a request (a WebSocket) that lasts for hours

	f.advance(time.Minute)
	f.check(t)
	if n := len(f.sleeper.calls); n != 0 {
		t.Fatalf("after 1 min: %v", f.sleeper.calls)
	}
	f.advance(90 * time.Second)
	f.check(t)
	if f.sleeper.count("pause:t1") != 1 || f.sleeper.count("pause:t4") != 0 {
		t.Fatalf("after 2.5 min: %v, want t1 paused only (demo has no pause tier)", f.sleeper.calls)
	}
	f.advance(30 * time.Minute)
	f.check(t)
	f.check(t)
	if f.sleeper.count("passivate:t1") != 1 {
		t.Fatalf("after 32.5 min: %v, want t1 passivated once", f.sleeper.calls)
	}
	f.advance(time.Hour)
	f.check(t)
	if f.sleeper.count("passivate:t4") != 1 {
		t.Errorf("demo not passivated after its idle timeout: %v", f.sleeper.calls)
	}
	for _, never := range []string{"t2", "t3"} {
		if f.sleeper.count("pause:"+never)+f.sleeper.count("passivate:"+never) != 0 {
			t.Errorf("%s put to sleep: %v", never, f.sleeper.calls)
		}
	}
	end()
	f.advance(31 * time.Minute)
	f.check(t)
	if f.sleeper.count("passivate:t3") != 1 {
		t.Errorf("t3 not passivated once its long request ended: %v", f.sleeper.calls)
	}
}

func TestPassivatorActivityAndWakeUpsResetIdleness(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{IdleOverride: 3 * time.Second, PauseOverride: 0})
	f.addRunning(t, "t1", "trial1", "trial", time.Time{})
	f.addRunning(t, "t2", "prod1", "production", time.Time{})
	f.advance(2 * time.Second)
	f.activity.Begin("t1")()
	f.advance(2 * time.Second)
	f.check(t)
	if len(f.sleeper.calls) != 0 {
		t.Fatalf("passivated 2 s after a request with a 3 s idle timeout: %v", f.sleeper.calls)
	}
	f.advance(2 * time.Second)
	f.check(t)
	if f.sleeper.count("passivate:t1") != 1 || f.sleeper.count("passivate:t2") != 0 {
		t.Fatalf("--idle-timeout 3s: %v, want trial passivated and production left alone", f.sleeper.calls)
	}
	if f.sleeper.count("pause:t1") != 0 {
		t.Errorf("--pause-after 0 still paused: %v", f.sleeper.calls)
	}
	// Started again (by any means): a full idle period from then.
	f.routes.Set(route.Route{TenantID: "t1", Slug: "trial1", State: domain.StateRunning, Backends: []string{"10.0.0.3:80"}})
	f.advance(2 * time.Second)
	f.check(t)
	if f.sleeper.count("passivate:t1") != 1 {
		t.Fatalf("passivated right after being started: %v", f.sleeper.calls)
	}
	// A reconcile pass re-setting the running route is not activity.
	f.routes.Set(route.Route{TenantID: "t1", Slug: "trial1", State: domain.StateRunning, Backends: []string{"10.0.0.3:80"}})
	f.advance(2 * time.Second)
	f.check(t)
	if f.sleeper.count("passivate:t1") != 2 {
		t.Fatalf("not passivated again: %v", f.sleeper.calls)
	}
}

func TestPassivatorPauseCanBeTurnedOffPerEnvironment(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{PauseOverride: -1})
	f.addRunning(t, "t1", "trial1", "trial", time.Time{})
	if err := f.db.SetPauseEnabled(context.Background(), "trial", false); err != nil {
		t.Fatal(err)
	}
	f.advance(5 * time.Minute)
	f.check(t)
	if len(f.sleeper.calls) != 0 {
		t.Fatalf("paused with the tier off: %v", f.sleeper.calls)
	}
	if err := f.db.SetPauseEnabled(context.Background(), "trial", true); err != nil {
		t.Fatal(err)
	}
	f.check(t)
	if f.sleeper.count("pause:t1") != 1 {
		t.Fatalf("not paused with the tier back on: %v", f.sleeper.calls)
	}
}

func TestPassivatorExpiresTrialsAndRemovesThemAfterGrace(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{ExpiredGrace: 48 * time.Hour})
	ctx := context.Background()
	f.addRunning(t, "t1", "trial1", "trial", f.now.Add(time.Hour))
	f.addRunning(t, "t2", "trial2", "trial", f.now.Add(5*24*time.Hour))
	f.activity.Begin("t1") // busy tenants expire too
	f.advance(61 * time.Minute)
	f.check(t)
	f.check(t)
	if f.sleeper.count("passivate:t1") != 1 {
		t.Fatalf("expired trial not stopped once: %v", f.sleeper.calls)
	}
	if state := tenant(t, f.db, "t1").State; state != domain.StateExpired {
		t.Fatalf("state %q, want expired", state)
	}
	evs, err := f.db.ListEvents(ctx, "t1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := countExpired(evs); n != 1 {
		t.Errorf("expiry events: %d", n)
	}
	if r, _ := f.routes.Get("trial1"); r.State != domain.StateExpired {
		t.Errorf("route state %q, want expired (answers 410)", r.State)
	}

	// Extended during the grace period: back as passivated, not removed.
	until, err := f.p.Extend(ctx, "t1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.now.Add(3 * 24 * time.Hour); until.Sub(want).Abs() > 2*time.Minute {
		t.Errorf("extended until %s, want about %s", until, want)
	}
	if r, _ := f.routes.Get("trial1"); r.State != "passivated" {
		t.Errorf("route state after extension %q, want passivated", r.State)
	}
	if _, err := f.p.Extend(ctx, "t1", 0); err == nil {
		t.Error("extension by 0 days accepted")
	}

	// t2 expires, and is removed once the grace period has passed.
	f.advance(5 * 24 * time.Hour)
	f.check(t)
	if state := tenant(t, f.db, "t2").State; state != domain.StateExpired {
		t.Fatalf("t2 state %q after its expiry, want expired", state)
	}
	f.advance(46 * time.Hour)
	f.check(t)
	if f.sleeper.count("wake:t2") != 0 {
		t.Fatal("removed before the end of the grace period")
	}
	f.advance(2 * time.Hour)
	f.check(t)
	if desired := tenant(t, f.db, "t2").DesiredState; desired != "deleted" || f.sleeper.count("wake:t2") != 1 {
		t.Fatalf("after grace: desired %q, calls %v", desired, f.sleeper.calls)
	}
}

func TestActivityFlushBatchesToTheDatabase(t *testing.T) {
	db := openDB(t)
	insertTenant(t, db, "t1", "acme", "trial", time.Time{})
	a := route.NewActivity(db, nil)
	ctx := context.Background()
	for range 5 {
		a.Begin("t1")()
	}
	day := time.Now().UTC().Format(time.DateOnly)
	if n, err := db.TenantRequests(ctx, "t1", day); err != nil || n != 0 {
		t.Fatalf("a request wrote to the database: %d, %v", n, err)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.Begin("t1")()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.TenantRequests(ctx, "t1", day); n != 6 {
		t.Errorf("requests of today: %d, want 6", n)
	}
	if last := tenant(t, db, "t1").LastActiveAt; time.Since(last.Time) > time.Minute {
		t.Errorf("last_active_at %v", last.Time)
	}
	// Nothing new: nothing written.
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.TenantRequests(ctx, "t1", day); n != 6 {
		t.Errorf("after an empty flush: %d", n)
	}
}
