// Package runtimetest holds the contract tests of runtime.Runtime: what
// every implementation (the Docker adapter on a real engine, the fake the
// unit tests use) must do, run by each implementation's own tests.
package runtimetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

// Options are what the contract tests need of the caller.
type Options struct {
	// Image is an image the runtime has; with Cmd (or its own command) a
	// container of it keeps running. Nothing else is asked of it.
	Image string
	Cmd   []string
	// Labels are put on every object (a real engine's tests mark theirs
	// for clean-up).
	Labels map[string]string
	// ExecOK is a command that succeeds in a running replica once it
	// serves; ExecFail one that fails there.
	ExecOK, ExecFail []string
	// Timeout bounds each call (default 2 minutes).
	Timeout time.Duration
}

// Run runs the contract's subtests; newRuntime returns a runtime without
// tenants, one per subtest (on a shared engine, under an instance of its
// own).
func Run(t *testing.T, newRuntime func(t *testing.T) runtime.Runtime, o Options) {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"ApplyCreatesRunningStack", testApplyCreates},
		{"ApplyAgainChangesNothing", testApplyIdempotent},
		{"NewGenerationReplacesReplicas", testNewGeneration},
		{"ChangedServiceReplacesOnlyIt", testChangedService},
		{"ReplicaCountScales", testScale},
		{"StoppedReplicasStartAgain", testRestart},
		{"ModeStoppedStopsAndKeeps", testStopped},
		{"ModePausedPausesAndResumeThaws", testPaused},
		{"RemoveLeavesNothing", testRemove},
		{"TenantsGroupsByTenant", testTenants},
		{"BeginErrorStopsBeforeAnyChange", testBeginError},
		{"SnapshotRestoreReplacesVolumes", testSnapshotRestore},
		{"SnapshotRefusesRunningAndForeign", testSnapshotRefusals},
		{"ExecAndLiveSnapshot", testExecLive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, rt: newRuntime(t), o: o}
			t.Cleanup(e.cleanup)
			tc.fn(t, e)
		})
	}
}

// env is one subtest's runtime and the tenants it applied.
type env struct {
	t       *testing.T
	rt      runtime.Runtime
	o       Options
	mu      sync.Mutex
	tenants []string
}

func (e *env) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.o.Timeout)
}

// cleanup removes every tenant the subtest applied, pass or fail.
func (e *env) cleanup() {
	ctx, cancel := e.ctx()
	defer cancel()
	for _, id := range e.tenants {
		if err := e.rt.Remove(ctx, id, nil); err != nil {
			e.t.Errorf("clean-up: remove %s: %v", id, err)
		}
	}
}

// stack is the contract's tenant: a store of one replica owning a volume,
// which web's two replicas wait for.
func (e *env) stack(tenant string, gen int64, mode runtime.Mode) *runtime.Stack {
	svc := func(name string, n int) runtime.Service {
		return runtime.Service{
			Name: name, Replicas: n, Image: e.o.Image, Cmd: e.o.Cmd, Env: []string{"SERVICE=" + name},
			MemoryBytes: 64 << 20, CPUs: 0.5, PidsLimit: 64, StopTimeout: 2 * time.Second,
		}
	}
	store := svc("store", 1)
	store.WaitHealthy = true
	store.Volumes = []runtime.VolumeMount{{Name: "data", Target: "/data"}}
	return &runtime.Stack{
		Tenant: tenant, Slug: tenant, Generation: gen, Mode: mode,
		Volumes: []string{"data"}, Services: []runtime.Service{store, svc("web", 2)}, Labels: e.o.Labels,
	}
}

// apply applies st and fails the test on an error.
func (e *env) apply(st *runtime.Stack) (runtime.Observation, *Recorder) {
	e.t.Helper()
	e.track(st.Tenant)
	rec := &Recorder{}
	ctx, cancel := e.ctx()
	defer cancel()
	o, err := e.rt.Apply(ctx, st, rec)
	if err != nil {
		e.t.Fatalf("apply %s generation %d %s: %v", st.Tenant, st.Generation, st.Mode, err)
	}
	rec.checkOrder(e.t)
	return o, rec
}

func (e *env) track(tenant string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.tenants, tenant) {
		e.tenants = append(e.tenants, tenant)
	}
}

// observe observes a tenant and fails the test on an error.
func (e *env) observe(tenant string) runtime.Observation {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	o, err := e.rt.Observe(ctx, tenant)
	if err != nil {
		e.t.Fatalf("observe %s: %v", tenant, err)
	}
	return o
}

// Recorder is a runtime.Reporter that records what it hears; BeginErr, if
// set, is what its Begin returns.
type Recorder struct {
	BeginErr error

	mu      sync.Mutex
	log     []string // "begin", "changed", "point" in order
	begins  []bool
	changes []runtime.Change
	points  []string
}

// Begin implements runtime.Reporter.
func (r *Recorder) Begin(_ context.Context, creating bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, "begin")
	r.begins = append(r.begins, creating)
	return r.BeginErr
}

// Changed implements runtime.Reporter.
func (r *Recorder) Changed(_ context.Context, c runtime.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, "changed")
	r.changes = append(r.changes, c)
}

// Point implements runtime.Reporter.
func (r *Recorder) Point(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, "point")
	r.points = append(r.points, name)
}

// Changes returns "<action> <object> <replica>" of each change, in order
// (the replica is empty for a network or volume).
func (r *Recorder) Changes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.changes))
	for i, c := range r.changes {
		out[i] = strings.TrimSpace(c.Action + " " + c.Object + " " + c.Replica)
	}
	return out
}

// checkOrder checks that Begin was called once, before any change, when
// there was a change.
func (r *Recorder) checkOrder(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.begins) > 1 {
		t.Errorf("Begin called %d times", len(r.begins))
	}
	if i := slices.Index(r.log, "changed"); i >= 0 && slices.Index(r.log, "begin") > i {
		t.Errorf("a change reported before Begin: %v", r.log)
	}
	if len(r.changes) > 0 && len(r.begins) == 0 {
		t.Errorf("%d changes without Begin", len(r.changes))
	}
}

// names lists replica names of an observation.
func names(o runtime.Observation) []string {
	out := make([]string, len(o.Replicas))
	for i, rp := range o.Replicas {
		out[i] = rp.Name
	}
	return out
}

// ids maps replica names to their runtime ids.
func ids(o runtime.Observation) map[string]string {
	out := map[string]string{}
	for _, rp := range o.Replicas {
		out[rp.Name] = rp.ID
	}
	return out
}

// wantChanges checks changes against want, ignoring order.
func wantChanges(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("changes %q, want (in any order) %q", got, want)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// all checks a predicate on every replica of an observation.
func all(t *testing.T, o runtime.Observation, what string, ok func(runtime.Replica) bool) {
	t.Helper()
	if len(o.Replicas) == 0 {
		t.Errorf("no replicas, want them %s", what)
	}
	for _, rp := range o.Replicas {
		if !ok(rp) {
			t.Errorf("replica %s is not %s: %+v", rp.Name, what, rp)
		}
	}
}

// errBegin is the error a Recorder's Begin returns in testBeginError.
var errBegin = errors.New("the caller refused to begin")
