package orchestrator

import (
	"context"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/monitor"
	"appfactory/orchestrator/reconcile"
)

// TestKilledContainerIsRecordedAndRestarted deploys a real tenant, kills
// one of its containers behind the orchestrator's back, and expects the
// death in the tenant's events and the container running again, through
// the monitor's wake rather than the periodic resync.
func TestKilledContainerIsRecordedAndRestarted(t *testing.T) {
	e := newFactoryEnv(t)
	// A slow resync: the repair must come from the monitor's wake.
	e.stop()
	r, err := reconcile.NewReconciler(reconcile.ReconcilerOptions{
		DB: e.db, Runtime: e.rt, Blueprints: e.blueprints(), Routes: e.routes,
		Labels: e.Labels, Resync: time.Hour, ReadyTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.r, e.svc.Reconciler, e.svc.Factory = r, r, r.Factory()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = r.Run(ctx); done <- struct{}{} }()
	m := &monitor.Monitor{Events: e.rt, Recorder: e.db, Waker: r}
	go func() { _ = m.Run(ctx); done <- struct{}{} }()
	e.stop = func() { cancel(); <-done; <-done }

	tn := e.deploy(t, e.app(t, "Heal", "1.0", "trial", 1))
	cs, _, _ := e.objects(t, tn.ID)
	var victim docker.Container
	for _, c := range cs {
		if c.Labels[docker.LabelService] == "web" {
			victim = c
		}
	}
	if victim.ID == "" {
		t.Fatalf("no web container among %d", len(cs))
	}
	killed := time.Now()
	if err := e.D.Kill(context.Background(), victim.ID, "KILL"); err != nil {
		t.Fatal(err)
	}
	short := docker.ReplicaName(victim.Labels)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := e.D.Inspect(context.Background(), victim.Name)
		if err == nil && c.Running && c.StartedAt.After(killed) {
			break
		}
		if time.Now().After(deadline) {
			e.fatalWithEvents(t, tn.ID, "the killed container was not restarted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("restarted %v after the kill", time.Since(killed).Round(time.Millisecond))
	evs, _ := e.db.ListEvents(context.Background(), tn.ID, 0, 0)
	var all []string
	for _, ev := range evs {
		all = append(all, ev.Kind+": "+ev.Message)
	}
	joined := strings.Join(all, "\n")
	for _, want := range []string{"container: container " + short + " died (exit 137)", "container: container " + short + " was sent SIGKILL"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %q in events:\n%s", want, joined)
		}
	}
	if got := e.waitState(t, tn.ID, domain.StateRunning, 10*time.Second); got.State != domain.StateRunning {
		t.Errorf("state %s", got.State)
	}
}
