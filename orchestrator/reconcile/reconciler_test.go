package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/internal/fakeruntime"
	"appfactory/orchestrator/route"
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
