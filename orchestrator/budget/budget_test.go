package budget

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

const mib = 1 << 20

// fakeEvictor records evictions and stops the tenant in the route table,
// as the passivator does through the reconciler.
type fakeEvictor struct {
	mu        sync.Mutex
	routes    *route.Routes
	never     map[string]bool // production
	evicted   []string
	slugOf    map[string]string
	failUntil int
}

func (f *fakeEvictor) Evictable(context.Context) (map[string]bool, error) {
	m := map[string]bool{}
	for _, r := range f.routes.All() {
		m[r.TenantID] = !f.never[r.TenantID]
	}
	return m, nil
}

func (f *fakeEvictor) Evict(_ context.Context, id, _ string) error {
	f.mu.Lock()
	if f.failUntil > 0 {
		f.failUntil--
		f.mu.Unlock()
		return errors.New("engine said no")
	}
	f.evicted = append(f.evicted, id)
	f.mu.Unlock()
	f.routes.Set(route.Route{TenantID: id, Slug: f.slugOf[id], State: domain.StatePassivated})
	return nil
}

func (f *fakeEvictor) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.evicted...)
}

type env struct {
	b        *Budget
	routes   *route.Routes
	activity *route.Activity
	ev       *fakeEvictor
	now      time.Time
	mu       sync.Mutex
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// newEnv is a budget of budgetMiB over tenants of the given sizes in MiB.
func newEnv(t *testing.T, budgetMiB int64, sizes map[string]int64) *env {
	t.Helper()
	e := &env{routes: route.NewRoutes(), now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	e.activity = route.NewActivity(nil, nil)
	e.activity.Now = e.clock
	e.ev = &fakeEvictor{routes: e.routes, never: map[string]bool{}, slugOf: map[string]string{}}
	for id := range sizes {
		e.ev.slugOf[id] = "s-" + id
		e.routes.Set(route.Route{TenantID: id, Slug: "s-" + id, State: domain.StatePassivated})
	}
	e.b = New(Config{Bytes: budgetMiB * mib, Evictor: e.ev, MinIdle: time.Minute, Now: e.clock,
		Size: func(_ context.Context, id string) (int64, error) {
			n, ok := sizes[id]
			if !ok {
				return 0, errors.New("no such tenant")
			}
			return n * mib, nil
		}}, e.activity)
	e.b.Watch(e.routes)
	return e
}

// run starts a tenant as an activation would: admitted, then running.
func (e *env) run(t *testing.T, id string) {
	t.Helper()
	release, err := e.b.Admit(context.Background(), id)
	if err != nil {
		t.Fatalf("admit %s: %v", id, err)
	}
	e.routes.Set(route.Route{TenantID: id, Slug: "s-" + id, State: domain.StateRunning, Backends: []string{"x:1"}})
	release()
	e.activity.Touch(id)
}

// admitAsync starts an Admit that waits; the channel gets its result.
func (e *env) admitAsync(ctx context.Context, id string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		release, err := e.b.Admit(ctx, id)
		if err == nil {
			e.routes.Set(route.Route{TenantID: id, Slug: "s-" + id, State: domain.StateRunning, Backends: []string{"x:1"}})
			release()
		}
		ch <- err
	}()
	return ch
}

// waitQueued waits until n tenants are queued (the goroutines have run).
func (e *env) waitQueued(t *testing.T, n int) {
	t.Helper()
	for range 2000 {
		if len(e.b.Snapshot().Queue) == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("queue length %d, want %d", len(e.b.Snapshot().Queue), n)
}

func (e *env) makeRoom(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	e.b.makeRoom(context.Background(), &wg)
	wg.Wait()
}

func TestAdmitCountsRunningPausedAndStartingTenants(t *testing.T) {
	e := newEnv(t, 300, map[string]int64{"a": 100, "b": 100, "c": 100, "d": 100})
	e.run(t, "a")
	e.run(t, "b")
	e.routes.Set(route.Route{TenantID: "b", Slug: "s-b", State: domain.StatePaused, Backends: []string{"x:1"}})
	release, err := e.b.Admit(context.Background(), "c") // starting, not yet routed
	if err != nil {
		t.Fatal(err)
	}
	if st := e.b.Snapshot(); st.Used != 300*mib || len(st.Members) != 3 {
		t.Fatalf("used %d with %d members, want 300 MiB of running, paused and starting", st.Used/mib, len(st.Members))
	}
	if _, _, ok := e.b.Place("c"); ok {
		t.Fatal("an admitted tenant is queued")
	}
	// Admitting a counted tenant again (the reconciler's pass after the
	// router's admission) is free.
	if r, err := e.b.Admit(context.Background(), "a"); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
	release() // c's start failed: it counts nothing
	e.routes.Set(route.Route{TenantID: "a", Slug: "s-a", State: domain.StatePassivated})
	if st := e.b.Snapshot(); st.Used != 100*mib {
		t.Fatalf("used %d MiB after a stop and a failed start, want 100 (the paused one)", st.Used/mib)
	}
}

func TestTooLargeIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t, 300, map[string]int64{"big": 400})
	_, err := e.b.Admit(context.Background(), "big")
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Bytes != 400*mib {
		t.Fatalf("err = %v, want TooLargeError", err)
	}
	if st := e.b.Snapshot(); len(st.Queue) != 0 || st.Used != 0 {
		t.Fatalf("a refused tenant changed the budget: %+v", st)
	}
}

func TestEvictsLeastRecentlyUsedIdleOnlyAsNeeded(t *testing.T) {
	e := newEnv(t, 300, map[string]int64{"old": 100, "mid": 100, "new": 100, "prod": 100, "busy": 100, "x": 200})
	e.ev.never["prod"] = true
	e.run(t, "prod")
	e.advance(time.Minute)
	e.run(t, "old")
	e.advance(time.Minute)
	e.run(t, "busy")
	e.routes.Set(route.Route{TenantID: "prod", Slug: "s-prod", State: domain.StatePassivated})
	e.run(t, "mid")
	e.advance(2 * time.Minute)
	end := e.activity.Begin("busy") // a request in flight
	defer end()
	e.activity.Touch("mid")
	e.advance(time.Minute)
	// old idle 4 min, busy has a request, mid idle 1 min. x needs 200 MiB
	// of 300 used: two evictions, old then mid; busy stays.
	ch := e.admitAsync(context.Background(), "x")
	e.waitQueued(t, 1)
	if p, n, ok := e.b.Place("x"); !ok || p != 1 || n != 1 {
		t.Fatalf("place %d of %d (%v), want 1 of 1", p, n, ok)
	}
	e.makeRoom(t)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	if got := e.ev.list(); len(got) != 2 || got[0] != "old" && got[1] != "old" || !contains(got, "mid") {
		t.Fatalf("evicted %v, want old and mid", got)
	}
	if st := e.b.Snapshot(); st.Used != 300*mib || st.Counts.Evicted != 2 {
		t.Fatalf("used %d MiB, %d evicted", st.Used/mib, st.Counts.Evicted)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestNeverEvictsProductionOrRecentlyActive(t *testing.T) {
	e := newEnv(t, 200, map[string]int64{"prod": 100, "fresh": 100, "c": 100})
	e.ev.never["prod"] = true
	e.run(t, "prod")
	e.advance(time.Hour)
	e.run(t, "fresh")
	e.advance(time.Second) // idle less than MinIdle
	ch := e.admitAsync(context.Background(), "c")
	e.waitQueued(t, 1)
	e.makeRoom(t)
	if got := e.ev.list(); len(got) != 0 {
		t.Fatalf("evicted %v: production and a tenant idle for a second must stay", got)
	}
	// Once fresh has been idle long enough, it goes.
	e.advance(time.Minute)
	e.makeRoom(t)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	if got := e.ev.list(); len(got) != 1 || got[0] != "fresh" {
		t.Fatalf("evicted %v, want fresh", got)
	}
}

func TestQueueIsFIFOOnePlacePerTenantAndWokenByFreedMemory(t *testing.T) {
	e := newEnv(t, 100, map[string]int64{"a": 100, "b": 100, "c": 100})
	e.ev.never["a"] = true
	e.run(t, "a")
	ctx := context.Background()
	b1 := e.admitAsync(ctx, "b")
	e.waitQueued(t, 1)
	b2 := e.admitAsync(ctx, "b") // a second request for b: same place
	c := e.admitAsync(ctx, "c")
	e.waitQueued(t, 2)
	if st := e.b.Snapshot(); st.Queue[0].TenantID != "b" || st.Queue[1].TenantID != "c" {
		t.Fatalf("queue %+v, want b then c", st.Queue)
	}
	for range 1000 {
		if e.b.Snapshot().Queue[0].Callers == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if p, n, _ := e.b.Place("c"); p != 2 || n != 2 {
		t.Fatalf("c is at %d of %d, want 2 of 2", p, n)
	}
	// a is deleted: b (first come) is let in, with both its requests.
	e.routes.Delete("s-a")
	if err := <-b1; err != nil {
		t.Fatal(err)
	}
	if err := <-b2; err != nil {
		t.Fatal(err)
	}
	if p, n, ok := e.b.Place("c"); !ok || p != 1 || n != 1 {
		t.Fatalf("c at %d of %d, want 1 of 1", p, n)
	}
	e.routes.Set(route.Route{TenantID: "b", Slug: "s-b", State: domain.StatePassivated})
	if err := <-c; err != nil {
		t.Fatal(err)
	}
}

func TestLeavingTheQueue(t *testing.T) {
	e := newEnv(t, 100, map[string]int64{"a": 100, "b": 100, "c": 100})
	e.ev.never["a"] = true
	e.run(t, "a")
	ctx, cancel := context.WithCancel(context.Background())
	b := e.admitAsync(ctx, "b")
	e.waitQueued(t, 1)
	c := e.admitAsync(context.Background(), "c")
	e.waitQueued(t, 2)
	cancel()
	if err := <-b; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if p, n, _ := e.b.Place("c"); p != 1 || n != 1 {
		t.Fatalf("c at %d of %d after b left, want 1 of 1", p, n)
	}
	e.routes.Set(route.Route{TenantID: "a", Slug: "s-a", State: domain.StatePassivated})
	if err := <-c; err != nil {
		t.Fatal(err)
	}
}

func TestFailedEvictionIsRetriedLater(t *testing.T) {
	e := newEnv(t, 100, map[string]int64{"a": 100, "b": 100})
	e.run(t, "a")
	e.advance(time.Hour)
	e.ev.failUntil = 1
	ch := e.admitAsync(context.Background(), "b")
	e.waitQueued(t, 1)
	e.makeRoom(t)
	e.makeRoom(t) // within RetryFailed: a is left alone
	if got := e.ev.list(); len(got) != 0 {
		t.Fatalf("evicted %v", got)
	}
	e.advance(time.Minute)
	e.makeRoom(t)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

func TestMembersFoundRunningAreSized(t *testing.T) {
	e := newEnv(t, 300, map[string]int64{"a": 100})
	e.routes.Set(route.Route{TenantID: "a", Slug: "s-a", State: domain.StateRunning, Backends: []string{"x:1"}})
	e.b.sizeMembers(context.Background())
	if st := e.b.Snapshot(); st.Used != 100*mib {
		t.Fatalf("used %d MiB, want 100", st.Used/mib)
	}
}

func TestDeletedWhileWaitingLeavesTheQueue(t *testing.T) {
	e := newEnv(t, 100, map[string]int64{"a": 100, "b": 100, "c": 100})
	e.ev.never["a"] = true
	e.run(t, "a")
	b := e.admitAsync(context.Background(), "b")
	e.waitQueued(t, 1)
	c := e.admitAsync(context.Background(), "c")
	e.waitQueued(t, 2)
	e.routes.Delete("s-b")
	if err := <-b; !errors.Is(err, ErrGone) {
		t.Fatalf("err = %v, want ErrGone", err)
	}
	if p, n, ok := e.b.Place("c"); !ok || p != 1 || n != 1 {
		t.Fatalf("c at %d of %d, want 1 of 1", p, n)
	}
	e.routes.Delete("s-a")
	if err := <-c; err != nil {
		t.Fatal(err)
	}
}
