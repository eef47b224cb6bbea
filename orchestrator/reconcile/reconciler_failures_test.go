package reconcile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

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
