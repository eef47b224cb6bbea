package runtimetest

import (
	"errors"
	"slices"
	"testing"

	"appfactory/orchestrator/runtime"
)

var running = func(rp runtime.Replica) bool { return rp.Running && !rp.Paused && rp.Address != "" }

func testApplyCreates(t *testing.T, e *env) {
	o, rec := e.apply(e.stack("acme", 1, runtime.ModeRunning))
	if !slices.Equal(names(o), []string{"store-1", "web-1", "web-2"}) || !o.Network || !slices.Equal(o.Volumes, []string{"data"}) {
		t.Fatalf("applied: network %v volumes %v replicas %v", o.Network, o.Volumes, names(o))
	}
	all(t, o, "running with an address", running)
	addrs := map[string]bool{}
	for _, rp := range o.Replicas {
		if rp.ID == "" || rp.Generation != 1 || rp.Image != e.o.Image || addrs[rp.Address] {
			t.Errorf("replica %+v: want an id, generation 1, image %s and an address of its own", rp, e.o.Image)
		}
		addrs[rp.Address] = true
	}
	if len(rec.begins) != 1 || !rec.begins[0] {
		t.Errorf("Begin calls %v, want one that says objects are created", rec.begins)
	}
	wantChanges(t, rec.Changes(), "created network", "created volume",
		"created container store-1", "created container web-1", "created container web-2",
		"started container store-1", "started container web-1", "started container web-2")
	for _, p := range []string{"after-network", "after-volume:data", "after-container:store-1", "after-container:web-2", "after-start:store-1", "after-start:web-1"} {
		if !slices.Contains(rec.points, p) {
			t.Errorf("no point %s in %v", p, rec.points)
		}
	}
	// store waits for nothing; web waits for store: store starts first.
	ch := rec.Changes()
	if slices.Index(ch, "started container store-1") > slices.Index(ch, "started container web-1") {
		t.Errorf("web started before store: %v", ch)
	}
	if got := e.observe("acme"); !slices.Equal(names(got), names(o)) || !equalIDs(ids(got), ids(o)) {
		t.Errorf("Observe shows %v, Apply returned %v", names(got), names(o))
	} else {
		all(t, got, "running with an address", running)
	}
	if got := e.observe("nobody"); !got.Empty() {
		t.Errorf("a tenant without objects observes %+v", got)
	}
}

func equalIDs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testApplyIdempotent(t *testing.T, e *env) {
	st := e.stack("acme", 1, runtime.ModeRunning)
	first, _ := e.apply(st)
	o, rec := e.apply(st)
	if len(rec.begins) != 0 || len(rec.changes) != 0 {
		t.Errorf("a second Apply began %v and changed %q", rec.begins, rec.Changes())
	}
	if !equalIDs(ids(o), ids(first)) {
		t.Errorf("replicas %v, were %v", ids(o), ids(first))
	}
	all(t, o, "running with an address", running)
}

func testNewGeneration(t *testing.T, e *env) {
	first, _ := e.apply(e.stack("acme", 1, runtime.ModeRunning))
	o, rec := e.apply(e.stack("acme", 2, runtime.ModeRunning))
	wantChanges(t, rec.Changes(),
		"removed container store-1", "removed container web-1", "removed container web-2",
		"created container store-1", "created container web-1", "created container web-2",
		"started container store-1", "started container web-1", "started container web-2")
	for _, c := range rec.changes {
		if c.Action == "removed" && c.Released != e.o.Image {
			t.Errorf("removal %+v releases %q, want %s", c, c.Released, e.o.Image)
		}
	}
	all(t, o, "of generation 2, running", func(rp runtime.Replica) bool {
		return rp.Generation == 2 && running(rp) && rp.ID != ids(first)[rp.Name]
	})
	if !slices.Equal(o.Volumes, []string{"data"}) {
		t.Errorf("volumes %v after the upgrade", o.Volumes)
	}
}

func testChangedService(t *testing.T, e *env) {
	first, _ := e.apply(e.stack("acme", 1, runtime.ModeRunning))
	st := e.stack("acme", 1, runtime.ModeRunning)
	st.Services[1].Env = append(st.Services[1].Env, "CHANGED=1")
	o, rec := e.apply(st)
	wantChanges(t, rec.Changes(), "removed container web-1", "removed container web-2",
		"created container web-1", "created container web-2", "started container web-1", "started container web-2")
	if ids(o)["store-1"] != ids(first)["store-1"] {
		t.Error("store-1 was replaced although its configuration is the same")
	}
	all(t, o, "running with an address", running)
}

func testScale(t *testing.T, e *env) {
	st := e.stack("acme", 1, runtime.ModeRunning)
	e.apply(st)
	st.Services[1].Replicas = 3
	o, rec := e.apply(st)
	wantChanges(t, rec.Changes(), "created container web-3", "started container web-3")
	if !slices.Equal(names(o), []string{"store-1", "web-1", "web-2", "web-3"}) {
		t.Errorf("scaled up to %v", names(o))
	}
	st.Services[1].Replicas = 1
	o, rec = e.apply(st)
	wantChanges(t, rec.Changes(), "removed container web-2", "removed container web-3")
	if !slices.Equal(names(o), []string{"store-1", "web-1"}) {
		t.Errorf("scaled down to %v", names(o))
	}
}

// testRestart: stopped replicas are started by the next running Apply,
// which says they had exited and creates nothing.
func testRestart(t *testing.T, e *env) {
	st := e.stack("acme", 1, runtime.ModeRunning)
	e.apply(st)
	st.Mode = runtime.ModeStopped
	e.apply(st)
	st.Mode = runtime.ModeRunning
	o, rec := e.apply(st)
	if len(rec.changes) != 3 {
		t.Errorf("changes %q, want three starts", rec.Changes())
	}
	all(t, o, "running with an address", running)
	for _, c := range rec.changes {
		if c.Action != "started" || !c.Exited {
			t.Errorf("change %+v, want a start of an exited replica", c)
		}
	}
	if len(rec.begins) != 1 || rec.begins[0] {
		t.Errorf("Begin calls %v, want one that creates nothing", rec.begins)
	}
}

func testStopped(t *testing.T, e *env) {
	first, _ := e.apply(e.stack("acme", 1, runtime.ModeRunning))
	o, rec := e.apply(e.stack("acme", 1, runtime.ModeStopped))
	wantChanges(t, rec.Changes(), "stopped container store-1", "stopped container web-1", "stopped container web-2")
	if len(rec.begins) != 1 || rec.begins[0] {
		t.Errorf("Begin calls %v, want one that creates nothing", rec.begins)
	}
	if !equalIDs(ids(o), ids(first)) || !o.Network || len(o.Volumes) != 1 {
		t.Errorf("stopped tenant %+v, want its objects kept", o)
	}
	all(t, o, "stopped", func(rp runtime.Replica) bool { return !rp.Running && !rp.Paused })
	if _, rec := e.apply(e.stack("acme", 1, runtime.ModeStopped)); len(rec.changes) != 0 {
		t.Errorf("stopping a stopped tenant changed %q", rec.Changes())
	}
	// A stack created stopped creates its replicas and starts none.
	o, rec = e.apply(e.stack("beta", 1, runtime.ModeStopped))
	all(t, o, "created, not started", func(rp runtime.Replica) bool { return !rp.Running && !rp.Paused })
	for _, c := range rec.changes {
		if c.Action == "started" {
			t.Errorf("a stopped stack was started: %+v", c)
		}
	}
}

func testPaused(t *testing.T, e *env) {
	if !e.rt.Capabilities().Pause {
		t.Skip("the runtime cannot pause")
	}
	first, _ := e.apply(e.stack("acme", 1, runtime.ModeRunning))
	o, rec := e.apply(e.stack("acme", 1, runtime.ModePaused))
	wantChanges(t, rec.Changes(), "paused container store-1", "paused container web-1", "paused container web-2")
	all(t, o, "paused", func(rp runtime.Replica) bool { return rp.Paused && rp.Address != "" })
	if !equalIDs(ids(o), ids(first)) {
		t.Errorf("pausing replaced replicas: %v, were %v", ids(o), ids(first))
	}
	ctx, cancel := e.ctx()
	defer cancel()
	if err := e.rt.Resume(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	all(t, e.observe("acme"), "running again", running)

	// Paused again, a running Apply resumes them.
	e.apply(e.stack("acme", 1, runtime.ModePaused))
	o, rec = e.apply(e.stack("acme", 1, runtime.ModeRunning))
	wantChanges(t, rec.Changes(), "resumed container store-1", "resumed container web-1", "resumed container web-2")
	all(t, o, "running again", running)
	if err := e.rt.Resume(ctx, "acme"); err != nil {
		t.Errorf("Resume of a running tenant: %v", err)
	}
}

func testRemove(t *testing.T, e *env) {
	e.apply(e.stack("acme", 1, runtime.ModeRunning))
	e.apply(e.stack("beta", 1, runtime.ModeRunning))
	ctx, cancel := e.ctx()
	defer cancel()
	rec := &Recorder{}
	if err := e.rt.Remove(ctx, "acme", rec); err != nil {
		t.Fatal(err)
	}
	rec.checkOrder(t)
	wantChanges(t, rec.Changes(), "removed container store-1", "removed container web-1", "removed container web-2",
		"removed volume", "removed network")
	for _, p := range []string{"before-remove-container:web-2", "before-remove-volume", "before-remove-network"} {
		if !slices.Contains(rec.points, p) {
			t.Errorf("no point %s in %v", p, rec.points)
		}
	}
	if o := e.observe("acme"); !o.Empty() {
		t.Errorf("after Remove: %+v", o)
	}
	ts, err := e.rt.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(ts, func(o runtime.Observation) bool { return o.Tenant == "acme" }) {
		t.Error("Tenants lists a removed tenant")
	}
	if o := e.observe("beta"); len(o.Replicas) != 3 {
		t.Errorf("another tenant's replicas after Remove: %v", names(o))
	}
	rec = &Recorder{}
	if err := e.rt.Remove(ctx, "acme", rec); err != nil || len(rec.begins) != 0 {
		t.Errorf("Remove of a removed tenant: %v, began %v", err, rec.begins)
	}
}

func testTenants(t *testing.T, e *env) {
	e.apply(e.stack("acme", 1, runtime.ModeRunning))
	e.apply(e.stack("beta", 3, runtime.ModeStopped))
	ctx, cancel := e.ctx()
	defer cancel()
	ts, err := e.rt.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]runtime.Observation{}
	for _, o := range ts {
		got[o.Tenant] = o
	}
	if len(got) != 2 || len(got["acme"].Replicas) != 3 || len(got["beta"].Replicas) != 3 || !got["beta"].Network {
		t.Fatalf("tenants %+v", ts)
	}
	all(t, got["acme"], "running", running)
	all(t, got["beta"], "of generation 3, stopped", func(rp runtime.Replica) bool { return rp.Generation == 3 && !rp.Running })
}

func testBeginError(t *testing.T, e *env) {
	e.track("acme")
	ctx, cancel := e.ctx()
	defer cancel()
	rec := &Recorder{BeginErr: errBegin}
	if _, err := e.rt.Apply(ctx, e.stack("acme", 1, runtime.ModeRunning), rec); !errors.Is(err, errBegin) {
		t.Fatalf("Apply with a failing Begin: %v, want its error", err)
	}
	if len(rec.changes) != 0 || len(rec.points) != 0 {
		t.Errorf("changes %q and points %v after a failing Begin", rec.Changes(), rec.points)
	}
	if o := e.observe("acme"); !o.Empty() {
		t.Errorf("objects after a failing Begin: %+v", o)
	}

	e.apply(e.stack("acme", 1, runtime.ModeRunning))
	rec = &Recorder{BeginErr: errBegin}
	if err := e.rt.Remove(ctx, "acme", rec); !errors.Is(err, errBegin) {
		t.Fatalf("Remove with a failing Begin: %v, want its error", err)
	}
	if o := e.observe("acme"); len(o.Replicas) != 3 || len(rec.changes) != 0 {
		t.Errorf("Remove with a failing Begin removed something: %v, changes %q", names(o), rec.Changes())
	}
	rec = &Recorder{BeginErr: errBegin}
	if _, err := e.rt.Apply(ctx, e.stack("acme", 2, runtime.ModeRunning), rec); !errors.Is(err, errBegin) {
		t.Fatalf("an upgrade with a failing Begin: %v, want its error", err)
	}
	all(t, e.observe("acme"), "of generation 1, running", func(rp runtime.Replica) bool { return rp.Generation == 1 && running(rp) })
}
