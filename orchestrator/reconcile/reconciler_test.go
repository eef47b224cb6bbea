package reconcile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/internal/fakeruntime"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// fakeEnv is a reconciler over a real database and a fake engine.
type fakeEnv struct {
	db     *store.DB
	rt     *fakeruntime.Runtime
	routes *route.Routes
	r      *Reconciler
	bp     *testBlueprints
}

func newFakeEnv(t *testing.T) *fakeEnv {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rt := fakeruntime.New()
	rt.Images["appfactory/testapp:1.0"] = "sha256:base1"
	rt.Images["appfactory/testapp:2.0"] = "sha256:base2"
	bp := &testBlueprints{base: "appfactory/testapp:1.0", template: testStackYAML, port: 8080, limits: stack.Limits{MemoryBytes: 64 << 20, CPUs: 0.5, PidsLimit: 64}}
	e := &fakeEnv{db: db, rt: rt, routes: route.NewRoutes(), bp: bp}
	e.r = e.newReconciler(t, nil)
	return e
}

func (e *fakeEnv) newReconciler(t *testing.T, failpoint func(string)) *Reconciler {
	t.Helper()
	r, err := NewReconciler(ReconcilerOptions{
		DB: e.db, Runtime: e.rt, Blueprints: e.bp, Routes: e.routes,
		OrphanGrace: time.Millisecond, ReadyTimeout: 2 * time.Second,
		Ready:     func(context.Context, string) error { return nil },
		Failpoint: failpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pass runs one reconcile pass of a tenant and returns the runtime's
// changes it made (fakeruntime.TakeCalls).
func (e *fakeEnv) pass(t *testing.T, id string) ([]string, error) {
	t.Helper()
	e.rt.TakeCalls()
	err := e.r.reconcileNow(context.Background(), id)
	return e.rt.TakeCalls(), err
}

func (e *fakeEnv) tenant(t *testing.T, id string) *store.Tenant {
	t.Helper()
	tn, err := e.db.TenantByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func (e *fakeEnv) events(t *testing.T, id string) []string {
	t.Helper()
	evs, err := e.db.ListEvents(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Message)
	}
	return out
}

// objects are a tenant's replicas (by name), whether it has a network,
// and its volumes, as the runtime observes them.
func (e *fakeEnv) objects(t *testing.T, id string) (replicas []string, network bool, volumes []string) {
	t.Helper()
	o, err := e.rt.Observe(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range o.Replicas {
		replicas = append(replicas, rp.Name)
	}
	return replicas, o.Network, o.Volumes
}

func hasEvent(evs []string, substr string) bool {
	return slices.ContainsFunc(evs, func(s string) bool { return strings.Contains(s, substr) })
}

func wantCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("engine calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wantCallGroups checks calls against groups in order; the calls within a
// group (made at once) may come in any order.
func wantCallGroups(t *testing.T, got []string, groups ...[]string) {
	t.Helper()
	var want []string
	i := 0
	ok := true
	for _, g := range groups {
		want = append(want, g...)
		if i+len(g) > len(got) || !slices.Equal(sortedStrings(got[i:i+len(g)]), sortedStrings(g)) {
			ok = false
		}
		i += len(g)
	}
	if !ok || i != len(got) {
		t.Fatalf("engine calls:\n  %s\nwant (groups unordered):\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestReconcileDeploysInDependencyOrder(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 2)
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := e.tenant(t, tn.ID)
	if len(calls) == 0 || !strings.HasPrefix(calls[0], "build appfactory/tenant-testapp:") {
		t.Fatalf("first call %v, want a build", calls)
	}
	wantCallGroups(t, calls[1:],
		[]string{"create-network acme"}, []string{"create-volume acme/data"},
		[]string{"create acme/store-1", "create acme/web-1", "create acme/web-2"},
		[]string{"start acme/store-1"}, // web depends on store being healthy
		[]string{"start acme/web-1", "start acme/web-2"})
	if got.State != domain.StateRunning || got.Image == "" {
		t.Fatalf("tenant after deploy: state %s image %q", got.State, got.Image)
	}
	evs := e.events(t, tn.ID)
	for _, want := range []string{"pending → building", "build: Step 2/2", "Built image", "building → deploying", "Created network acme", "Created volume acme-data", "Created container acme-web-2", "Started container acme-store-1", "deploying → running"} {
		if !hasEvent(evs, want) {
			t.Errorf("no event %q in %q", want, evs)
		}
	}
	rte, ok := e.routes.Get("acme")
	if !ok || rte.State != domain.StateRunning || len(rte.Backends) != 2 || rte.Readiness != "/healthz" || rte.TenantID != tn.ID {
		t.Fatalf("route %+v", rte)
	}
	b, _ := e.db.LastBuild(context.Background(), tn.ID)
	if b == nil || b.Result != store.BuildOK || !strings.Contains(b.Log, "Step 2/2") || !strings.Contains(b.Log, "COPY rootfs/ /") {
		t.Fatalf("build record %+v", b)
	}

	// The stack applied carries the tenant's generation, image, limits and
	// template.
	rp, _ := e.rt.Replica(tn.ID, "web-2")
	sv := rp.Spec
	if rp.Generation != 1 || rp.Image != got.Image || sv.MemoryBytes != 64<<20 || sv.CPUs != 0.5 || sv.PidsLimit != 64 {
		t.Errorf("web-2: %+v", rp)
	}
	if !slices.Contains(sv.Env, "TENANT="+tn.ID) || !slices.Equal(sv.Cmd, []string{"web"}) {
		t.Errorf("web-2 env %v cmd %v", sv.Env, sv.Cmd)
	}
	if st, _ := e.rt.Replica(tn.ID, "store-1"); st.Spec.Healthcheck == nil || len(st.Spec.Volumes) != 1 || st.Spec.Volumes[0].Name != "data" {
		t.Errorf("store-1 spec %+v", st.Spec)
	}

	// A second pass changes nothing and records nothing.
	before := len(evs)
	calls, err = e.pass(t, tn.ID)
	if err != nil || len(calls) != 0 {
		t.Fatalf("idempotent pass made calls %v (%v)", calls, err)
	}
	if n := len(e.events(t, tn.ID)); n != before {
		t.Errorf("idempotent pass recorded %d events", n-before)
	}
}

func TestReconcileReusesImageOfIdenticalAssembly(t *testing.T) {
	e := newFakeEnv(t)
	a := seedTenant(t, e.db, "a", 1)
	if _, err := e.pass(t, a.ID); err != nil {
		t.Fatal(err)
	}
	b := seedTenantOf(t, e.db, "b", 1, e.tenant(t, a.ID).Assembly)
	calls, err := e.pass(t, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "build") }) {
		t.Fatalf("identical assembly built again: %v", calls)
	}
	if e.tenant(t, a.ID).Image != e.tenant(t, b.ID).Image {
		t.Fatal("images differ")
	}
	if !hasEvent(e.events(t, b.ID), "Reused image") {
		t.Error("no reuse event")
	}
	// Another model is another image.
	c := seedTenant(t, e.db, "c", 1)
	if _, err := e.pass(t, c.ID); err != nil {
		t.Fatal(err)
	}
	if e.tenant(t, c.ID).Image == e.tenant(t, a.ID).Image {
		t.Fatal("different assemblies share an image")
	}
}

func TestReconcileRestartsDeadContainer(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 1)
	e.pass(t, tn.ID)
	e.rt.Kill(tn.ID, "web-1", 137)
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, calls, "start acme/web-1")
	evs := e.events(t, tn.ID)
	if !hasEvent(evs, "Restarted web-1 after it died (exit code 137)") {
		t.Errorf("events %q", evs)
	}
	if hasEvent(evs[len(evs)-1:], "→") {
		t.Errorf("a repair changed the state: %q", evs[len(evs)-1])
	}
}

func TestReconcileUpgradeReplacesContainersKeepsVolume(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 2)
	e.pass(t, tn.ID)
	oldImage := e.tenant(t, tn.ID).Image
	e.bp.base = "appfactory/testapp:2.0"
	if _, err := e.db.BumpGeneration(context.Background(), tn.ID, "2.0", "Upgrade to 2.0"); err != nil {
		t.Fatal(err)
	}
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCallGroups(t, calls[1:],
		[]string{"remove-container acme/web-2", "remove-container acme/web-1", "remove-container acme/store-1"},
		[]string{"create acme/store-1", "create acme/web-1", "create acme/web-2"},
		[]string{"start acme/store-1"}, []string{"start acme/web-1", "start acme/web-2"},
		[]string{"remove-image " + oldImage})
	if _, ok := e.rt.Images[oldImage]; ok {
		t.Errorf("image %s of no tenant kept after the upgrade", oldImage)
	}
	got := e.tenant(t, tn.ID)
	if got.Image == oldImage || got.Generation != 2 || got.State != domain.StateRunning {
		t.Fatalf("after upgrade: %+v", got)
	}
	if c, _ := e.rt.Replica(tn.ID, "store-1"); c.Generation != 2 || c.Image != got.Image {
		t.Errorf("store-1 of generation %d, image %s", c.Generation, c.Image)
	}
	if _, _, vols := e.objects(t, tn.ID); !slices.Equal(vols, []string{"data"}) {
		t.Errorf("volumes %v", vols)
	}
	if !hasEvent(e.events(t, tn.ID), "Removed container acme-web-1 (replaced by generation 2)") {
		t.Error("no replacement event")
	}
}

func TestReconcileChangedTemplateReplacesOnlyChangedService(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 1)
	e.pass(t, tn.ID)
	e.bp.template = strings.Replace(testStackYAML, "STORE_URL: http://store:8081", "STORE_URL: http://store:9000", 1)
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, calls, "remove-container acme/web-1", "create acme/web-1", "start acme/web-1")
}

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

func TestReconcileFailuresRetryThenFail(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 1)
	e.rt.Fail["start:store-1"] = 3
	for i := 1; i <= 3; i++ {
		if _, err := e.pass(t, tn.ID); err == nil {
			t.Fatalf("pass %d succeeded", i)
		}
		got := e.tenant(t, tn.ID)
		if got.Failures != i {
			t.Fatalf("failures %d, want %d", got.Failures, i)
		}
		if wantFailed := i >= 3; (got.State == domain.StateFailed) != wantFailed {
			t.Fatalf("after %d failures state %s", i, got.State)
		}
	}
	got := e.tenant(t, tn.ID)
	if got.StateMessage != "Starting container acme-store-1 failed" {
		t.Errorf("reason %q", got.StateMessage)
	}
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	got = e.tenant(t, tn.ID)
	if got.State != domain.StateRunning || got.Failures != 0 || got.StateMessage != "" {
		t.Fatalf("after recovery %+v", got)
	}
	if !hasEvent(e.events(t, tn.ID), "failed → running") {
		t.Error("recovery not recorded")
	}
}

func TestReconcileBuildErrorFailsAtOnce(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 1)
	e.rt.BuildErr = &runtime.BuildError{Msg: "COPY failed: no such file", Lines: []string{"Step 2/2 : COPY rootfs/ /"}}
	if _, err := e.pass(t, tn.ID); err == nil {
		t.Fatal("pass succeeded")
	}
	got := e.tenant(t, tn.ID)
	if got.State != domain.StateFailed || got.StateMessage != "The image build failed: COPY failed: no such file" {
		t.Fatalf("state %s %q", got.State, got.StateMessage)
	}
	b, _ := e.db.LastBuild(context.Background(), tn.ID)
	if b.Result != store.BuildFailed || !strings.Contains(b.Log, "Step 2/2") || !strings.Contains(b.Log, "ERROR: COPY failed") {
		t.Fatalf("build %+v", b)
	}
}

func TestResyncQueuesOnlyDriftAndSweepsOrphans(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	a := seedTenant(t, e.db, "a", 1)
	b := seedTenant(t, e.db, "b", 1)
	e.pass(t, a.ID)
	e.pass(t, b.ID)
	e.rt.Kill(b.ID, "web-1", 1)
	// The objects of a tenant that does not exist.
	if _, err := e.rt.Apply(ctx, &runtime.Stack{Tenant: "gone", Slug: "gone", Generation: 1, Mode: runtime.ModeRunning, Volumes: []string{"data"},
		Services: []runtime.Service{{Name: "web", Replicas: 1, Image: "appfactory/testapp:1.0", Volumes: []runtime.VolumeMount{{Name: "data", Target: "/data"}}}}}, nil); err != nil {
		t.Fatal(err)
	}

	if err := e.r.resync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.r.queue.len(); n != 1 {
		t.Fatalf("queued %d tenants, want only b", n)
	}
	if id, _ := e.r.queue.get(ctx); id != b.ID {
		t.Fatalf("queued %s", id)
	}
	if cs, _, _ := e.objects(t, "gone"); !slices.Contains(cs, "web-1") {
		t.Fatal("orphan removed before its grace period")
	}
	// The scenario: the grace (1 ms) passes; a sleep longer than it cannot
	// be too short on a loaded machine.
	time.Sleep(5 * time.Millisecond)
	e.rt.TakeCalls()
	e.r.resync(ctx)
	calls := e.rt.TakeCalls()
	wantCalls(t, calls, "remove-container gone/web-1", "remove-volume gone/data", "remove-network gone")
	if cs, _, _ := e.objects(t, a.ID); !slices.Equal(cs, []string{"store-1", "web-1"}) {
		t.Fatalf("a live tenant's replicas after the sweep: %v", cs)
	}
}

func TestWorkQueueSerialisesPerTenant(t *testing.T) {
	q := newWorkQueue()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.add("a", "b", "a")
	if q.len() != 2 {
		t.Fatalf("len %d", q.len())
	}
	id, _ := q.get(ctx)
	q.add("a") // woken while active: queued again after done
	if q.len() != 1 {
		t.Fatalf("len while active %d", q.len())
	}
	q.done(id)
	got := []string{id}
	for q.len() > 0 {
		id, _ := q.get(ctx)
		got = append(got, id)
		q.done(id)
	}
	if !slices.Equal(got, []string{"a", "b", "a"}) {
		t.Fatalf("order %v", got)
	}
	cancel()
	if _, ok := q.get(ctx); ok {
		t.Fatal("get after cancel")
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second}, {20, 5 * time.Minute}} {
		if got := backoff(tt.n); got != tt.want {
			t.Errorf("backoff(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
	if !permanent(&runtime.BuildError{}) || permanent(errors.New("x")) {
		t.Error("permanent")
	}
}

func TestReadinessProbeEndsWhenContainerStops(t *testing.T) {
	e := newFakeEnv(t)
	tn := seedTenant(t, e.db, "acme", 1)
	e.r.opts.Ready = func(ctx context.Context, _ string) error {
		e.rt.Kill(tn.ID, "web-1", 1) // dies while being probed
		<-ctx.Done()
		return ctx.Err()
	}
	// The probe never answers: only the stop ends it. Had the pass waited
	// for the readiness timeout (2 s here) instead, its error would say the
	// container did not answer in time, not that it stopped.
	start := time.Now()
	_, err := e.pass(t, tn.ID)
	if err == nil || !strings.Contains(err.Error(), "the replica stopped") {
		t.Fatalf("pass: %v", err)
	}
	t.Logf("the pass ended %s after the probe began", time.Since(start))
}

// TestRunStoppedBeforeItStarts: a serve cancelled the moment it starts
// (a SIGTERM during start-up) stops cleanly: the start-up work the
// cancellation interrupts is no error to report.
func TestRunStoppedBeforeItStarts(t *testing.T) {
	e := newFakeEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.r.Run(ctx); err != nil {
		t.Fatalf("Run on a cancelled context: %v", err)
	}
}
