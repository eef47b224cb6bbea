package reconcile

import (
	"context"
	"slices"
	"testing"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// An Activate that waits for a passivation under way, and a second
// Passivate that arrives while both wait, never leave Activate's pass
// acting on the other's wish: whichever order they take the tenant in,
// Activate's own pass starts the tenant.
func TestReconcileActivateAndPassivateRacing(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	tn := seedTenant(t, e.db, "acme", 1)
	e.pass(t, tn.ID)
	e.rt.TakeCalls()
	gate := make(chan struct{})
	e.rt.Mu.Lock()
	e.rt.StopGate = gate
	e.rt.Mu.Unlock()
	errs := make(chan error, 3)
	go func() { errs <- e.r.Passivate(ctx, tn.ID, "idle") }()
	// The first passivation holds the tenant, stopping.
	waitUntil(t, "a stop held at the gate", func() bool {
		e.rt.Mu.Lock()
		defer e.rt.Mu.Unlock()
		return e.rt.StopsAtGate > 0
	})
	go func() { errs <- e.r.Activate(ctx, tn.ID) }()
	waitUntil(t, "Activate waiting for the tenant", func() bool { return e.r.locks.refs(tn.ID) == 2 })
	go func() { errs <- e.r.Passivate(ctx, tn.ID, "idle") }()
	waitUntil(t, "the second Passivate waiting too", func() bool { return e.r.locks.refs(tn.ID) == 3 })
	close(gate)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	calls := e.rt.TakeCalls()
	if !slices.Contains(calls, "start acme/web-1") {
		t.Errorf("Activate returned without starting the tenant: %v", calls)
	}
}

func TestReconcilePassivateActivatePause(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	tn := seedTenant(t, e.db, "acme", 2)
	e.pass(t, tn.ID)

	e.rt.TakeCalls()
	var routeStates []string
	e.routes.Subscribe(func(r route.Route, _ bool) { routeStates = append(routeStates, r.State) })
	if err := e.r.Passivate(ctx, tn.ID, "idle for 15 minutes"); err != nil {
		t.Fatal(err)
	}
	wantCallGroups(t, e.rt.TakeCalls(), []string{"stop acme/web-2", "stop acme/web-1", "stop acme/store-1"})
	// Out of service before the first stop, so no request reaches a
	// stopping replica.
	if !slices.Equal(routeStates, []string{domain.StatePassivating, domain.StatePassivated}) {
		t.Errorf("route states while passivating: %v", routeStates)
	}
	if got := e.tenant(t, tn.ID); got.State != domain.StatePassivated {
		t.Fatalf("state %s", got.State)
	}
	if r, _ := e.routes.Get("acme"); r.State != domain.StatePassivated || len(r.Backends) != 0 {
		t.Fatalf("route %+v", r)
	}

	if err := e.r.Activate(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	wantCallGroups(t, e.rt.TakeCalls(), []string{"start acme/store-1"}, []string{"start acme/web-1", "start acme/web-2"})
	if r, _ := e.routes.Get("acme"); r.State != domain.StateRunning || len(r.Backends) != 2 {
		t.Fatalf("route %+v", r)
	}
	evs := e.events(t, tn.ID)
	for _, want := range []string{"Passivating: idle for 15 minutes", "running → passivating", "passivating → passivated", "passivated → activating", "activating → running"} {
		if !hasEvent(evs, want) {
			t.Errorf("no event %q", want)
		}
	}

	if err := e.r.Pause(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	wantCallGroups(t, e.rt.TakeCalls(), []string{"pause acme/web-2", "pause acme/web-1", "pause acme/store-1"})
	if r, _ := e.routes.Get("acme"); r.State != domain.StatePaused || len(r.Backends) != 2 {
		t.Fatalf("paused route %+v", r)
	}
	if err := e.r.Activate(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	wantCallGroups(t, e.rt.TakeCalls(), []string{"unpause acme/store-1"}, []string{"unpause acme/web-1", "unpause acme/web-2"})
	if got := e.tenant(t, tn.ID); got.State != domain.StateRunning || got.Paused {
		t.Fatalf("after activate: %s paused=%v", got.State, got.Paused)
	}
}

func TestReconcileDeleteRemovesEverything(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 2)
	other := seedTenant(t, e.db, "other", 1)
	e.pass(t, tn.ID)
	e.pass(t, other.ID)
	if err := e.db.SetDesiredState(context.Background(), tn.ID, domain.DesiredDeleted); err != nil {
		t.Fatal(err)
	}
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCallGroups(t, calls, []string{"remove-container acme/web-2", "remove-container acme/web-1", "remove-container acme/store-1"},
		[]string{"remove-volume acme/data"}, []string{"remove-network acme"}, []string{"remove-image " + e.tenant(t, tn.ID).Image})
	if cs, net, vs := e.objects(t, tn.ID); len(cs) != 0 || net || len(vs) != 0 {
		t.Fatalf("left of the deleted tenant: %v %v %v", cs, net, vs)
	}
	if cs, net, vs := e.objects(t, other.ID); !slices.Equal(cs, []string{"store-1", "web-1"}) || !net || !slices.Equal(vs, []string{"data"}) {
		t.Fatalf("left of the other tenant: %v %v %v", cs, net, vs)
	}
	evs := e.events(t, tn.ID)
	for _, want := range []string{"running → deleting", "Removed container acme-web-2", "Removed volume acme-data", "Removed network acme", "deleting → deleted"} {
		if !hasEvent(evs, want) {
			t.Errorf("no event %q in %q", want, evs)
		}
	}
	if _, ok := e.routes.Get("acme"); ok {
		t.Error("route of a deleted tenant")
	}
	if got := e.tenant(t, tn.ID); got.State != domain.StateDeleted {
		t.Errorf("state %s", got.State)
	}
}

// An image is removed when its last tenant stops using it, and only then:
// two tenants of one assembly share it, and a pass that is about to use an
// image holds it from removal.
func TestReconcileRemovesImageOfNoTenant(t *testing.T) {
	ctx := context.Background()
	e := newFakeEnv(t)
	a := seedTenant(t, e.db, "acme", 1)
	b := seedTenantOf(t, e.db, "beta", 1, a.Assembly)
	e.pass(t, a.ID)
	e.pass(t, b.ID)
	shared := e.tenant(t, a.ID).Image
	if e.tenant(t, b.ID).Image != shared {
		t.Fatalf("one assembly, two images: %s, %s", shared, e.tenant(t, b.ID).Image)
	}
	exists := func() bool { _, ok := e.rt.Images[shared]; return ok }

	// A held image (a pass of another tenant about to create its
	// containers) is not removed, even with no tenant recording it.
	e.r.images.hold(shared)
	e.r.removeUnusedImages(ctx, []string{shared, "appfactory/testapp:1.0"})
	e.r.images.release([]string{shared})
	if !exists() {
		t.Fatal("held image removed")
	}

	e.bp.base = "appfactory/testapp:2.0"
	if _, err := e.db.BumpGeneration(ctx, a.ID, "2.0", "Upgrade to 2.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pass(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if !exists() {
		t.Fatal("image removed while another tenant uses it")
	}
	if err := e.db.SetDesiredState(ctx, b.ID, domain.DesiredDeleted); err != nil {
		t.Fatal(err)
	}
	calls, err := e.pass(t, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if exists() || !slices.Contains(calls, "remove-image "+shared) {
		t.Errorf("image of no tenant left after its last tenant was deleted: %v", calls)
	}
	for _, base := range []string{"appfactory/testapp:1.0", "appfactory/testapp:2.0"} {
		if _, ok := e.rt.Images[base]; !ok {
			t.Errorf("platform image %s removed", base)
		}
	}
}
