package orchestrator

import (
	"context"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/budget"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/router"
	"appfactory/orchestrator/sleep"
	"appfactory/store"
	"appfactory/web"
)

// newBudgetRouter is a live router whose activations and the reconciler's
// starts wait for a memory budget of budgetBytes, evicting through a
// passivator (whose own idle timeout is too long to act in the test).
func newBudgetRouter(t *testing.T, budgetBytes int64) (*liveRouter, *budget.Budget) {
	t.Helper()
	e := newFactoryEnv(t)
	lr := &liveRouter{factoryEnv: e}
	lr.activity = route.NewActivity(e.db, nil)
	// The reconciler again, with the budget before it runs.
	e.stop()
	e.r = e.newReconciler(t, nil)
	e.svc.Reconciler, e.svc.Factory = e.r, e.r.Factory()
	pas := sleep.NewPassivator(sleep.PassivatorConfig{
		Policy: func(string) (time.Duration, time.Duration) { return time.Hour, 0 },
	}, e.routes, lr.activity, e.r, e.db)
	b := budget.New(budget.Config{Bytes: budgetBytes, Evictor: pas, MinIdle: 300 * time.Millisecond, Size: e.r.MemoryOf}, lr.activity)
	b.Watch(e.routes)
	e.r.UseBudget(b)
	lr.act = &countingResumer{countingActivator: countingActivator{inner: e.r}}
	lr.router = router.NewRouter(router.RouterConfig{
		Slug:              func(h string) (string, bool) { return web.TenantSlug(h, "localhost") },
		Pages:             router.Pages{Error: web.WriteTenantError, Starting: web.WriteStartingPage},
		Static:            web.TenantStatic(),
		ActivationTimeout: 30 * time.Second,
		Budget:            b,
	}, e.routes, lr.act, lr.activity)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{e.r.Run, lr.router.Run, b.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = run(ctx)
		}()
	}
	e.stop = func() { cancel(); wg.Wait() }
	lr.url = serveFront(t, lr.router)
	return lr, b
}

// assertNoOOMKill inspects every container of the tenants.
func (lr *liveRouter) assertNoOOMKill(t *testing.T, tenants ...*store.Tenant) {
	t.Helper()
	for _, tn := range tenants {
		cs, err := lr.D.ListContainers(context.Background(), map[string]string{docker.LabelTenant: tn.ID}, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			ci, err := lr.D.Inspect(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ci.OOMKilled {
				t.Errorf("container %s was OOM-killed", ci.Name)
			}
		}
	}
}

func TestLiveBudgetEvictsLeastRecentlyUsedAndQueues(t *testing.T) {
	// The trial environment's tenant: store and web at 256 MiB each.
	const tenantBytes = 512 << 20
	lr, b := newBudgetRouter(t, 2*tenantBytes+64<<20)
	ctx := context.Background()

	// Deploys go through the budget: the third waits until the least
	// recently used of the first two, idle, is put to sleep for it.
	a := lr.deploy(t, lr.app(t, "Budget A", "1.0", "trial", 1))
	lr.waitState(t, a.ID, domain.StateRunning, 60*time.Second)
	bb := lr.deploy(t, lr.app(t, "Budget B", "1.0", "trial", 1))
	lr.waitState(t, bb.ID, domain.StateRunning, 60*time.Second)
	if n, err := lr.r.MemoryOf(ctx, a.ID); err != nil || n != tenantBytes {
		t.Fatalf("memory of a trial tenant: %d (%v), want %d", n, err, tenantBytes)
	}
	c := lr.deploy(t, lr.app(t, "Budget C", "1.0", "trial", 1))
	lr.waitState(t, c.ID, domain.StateRunning, 60*time.Second)
	lr.waitState(t, a.ID, domain.StatePassivated, 30*time.Second)
	if tn, _ := lr.db.TenantByID(ctx, bb.ID); tn.State != domain.StateRunning {
		t.Fatalf("B is %s: only A, the least recently used, had to go", tn.State)
	}
	if st := b.Snapshot(); st.Used > st.Bytes || st.Counts.Evicted != 1 {
		t.Fatalf("after the deploys: used %d of %d, %d evicted, want 1", st.Used, st.Bytes, st.Counts.Evicted)
	}

	// All three asleep, then woken at once by API clients: two fit, the
	// third waits, held, until one of the two is idle and evicted.
	for _, tn := range []*store.Tenant{bb, c} {
		if err := lr.r.Passivate(ctx, tn.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.Snapshot(); st.Used != 0 {
		t.Fatalf("all asleep, used %d", st.Used)
	}
	evictedBefore := b.Snapshot().Counts.Evicted
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	for _, tn := range []*store.Tenant{a, bb, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := lr.request(t, tn.Slug, "/healthz", "application/json")
			codes <- code
		}()
	}
	// While one waits, the budget is full and says who waits.
	queued := false
	for range 600 {
		if st := b.Snapshot(); len(st.Queue) == 1 {
			queued = true
			if st.Used > st.Bytes {
				t.Errorf("overcommitted: used %d of %d", st.Used, st.Bytes)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Errorf("a woken tenant answered %d", code)
		}
	}
	if !queued {
		t.Error("no start waited for memory with three woken under a budget of two")
	}
	st := b.Snapshot()
	if n := st.Counts.Evicted - evictedBefore; n != 1 {
		t.Errorf("%d evictions for the third start, want 1", n)
	}
	if st.Used > st.Bytes || len(st.Members) != 2 || len(st.Queue) != 0 {
		t.Errorf("after the wake: used %d of %d by %d members, %d queued", st.Used, st.Bytes, len(st.Members), len(st.Queue))
	}
	lr.assertNoOOMKill(t, a, bb, c)
}
