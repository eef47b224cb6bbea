package reconcile

import (
	"context"
	"errors"
	"slices"
	"testing"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// errKilled is what a failpoint panics with to stop a reconciler dead.
var errKilled = errors.New("killed at failpoint")

// killAt returns a failpoint hook that, at the named point, cancels the
// reconciler's context and aborts the pass, as a SIGKILL would: no further
// engine or database call of that instance happens.
func killAt(point string, cancel context.CancelFunc, hit *bool) func(string) {
	return func(name string) {
		if name == point && !*hit {
			*hit = true
			cancel()
			panic(errKilled)
		}
	}
}

// TestCrashAtAnyPointConverges kills a pass at each failpoint of a deploy,
// an upgrade and a delete, then lets a fresh reconciler over the same
// database and engine converge, and checks that exactly the expected
// objects exist: no duplicate, no orphan.
func TestCrashAtAnyPointConverges(t *testing.T) {
	type scenario struct {
		name   string
		points []string
		// setup brings the tenant to the state before the operation and
		// starts the operation in the database.
		setup func(t *testing.T, e *fakeEnv, id string)
		// want is the replicas expected at the end (with the network and
		// volume, unless deleted), their generation and the tenant's state.
		wantReplicas []string
		wantGen      int64
		wantState    string
	}
	deployed := []string{"store-1", "web-1", "web-2"}
	scenarios := []scenario{
		{
			name:         "deploy",
			points:       []string{"before-build", "after-build", "after-network", "after-volume:data", "after-container:store-1", "after-start:store-1", "after-container:web-1", "after-start:web-1", "after-container:web-2"},
			setup:        func(*testing.T, *fakeEnv, string) {},
			wantReplicas: deployed, wantGen: 1, wantState: domain.StateRunning,
		},
		{
			name:   "upgrade",
			points: []string{"before-build", "after-build", "before-remove-container:web-2", "before-remove-container:store-1", "after-container:store-1", "after-start:store-1", "after-container:web-2"},
			setup: func(t *testing.T, e *fakeEnv, id string) {
				if _, err := e.pass(t, id); err != nil {
					t.Fatal(err)
				}
				e.bp.base = "appfactory/testapp:2.0"
				if _, err := e.db.BumpGeneration(context.Background(), id, "2.0", "Upgrade"); err != nil {
					t.Fatal(err)
				}
			},
			wantReplicas: deployed, wantGen: 2, wantState: domain.StateRunning,
		},
		{
			name:   "delete",
			points: []string{"before-remove-container:web-2", "before-remove-container:store-1", "before-remove-volume", "before-remove-network"},
			setup: func(t *testing.T, e *fakeEnv, id string) {
				if _, err := e.pass(t, id); err != nil {
					t.Fatal(err)
				}
				if err := e.db.SetDesiredState(context.Background(), id, domain.DesiredDeleted); err != nil {
					t.Fatal(err)
				}
			},
			wantState: domain.StateDeleted,
		},
	}
	for _, sc := range scenarios {
		for _, point := range sc.points {
			t.Run(sc.name+"/"+point, func(t *testing.T) {
				e := newFakeEnv(t)
				tn := seedTenant(t, e.db, "acme", 2)
				sc.setup(t, e, tn.ID)

				ctx, cancel := context.WithCancel(context.Background())
				hit := false
				killed := e.newReconciler(t, killAt(point, cancel, &hit))
				if err := killed.reconcileNow(ctx, tn.ID); err == nil || !hit {
					t.Fatalf("the pass was not killed at %s (err %v)", point, err)
				}

				// A fresh reconciler, as after a restart: Run's first pass.
				e.routes = route.NewRoutes()
				e.r = e.newReconciler(t, nil)
				if err := e.r.reconcileNow(context.Background(), tn.ID); err != nil {
					t.Fatalf("converging after the crash: %v", err)
				}
				cs, net, vs := e.objects(t, tn.ID)
				got := e.tenant(t, tn.ID)
				if got.State != sc.wantState {
					t.Errorf("state %s, want %s", got.State, sc.wantState)
				}
				if !slices.Equal(cs, sc.wantReplicas) {
					t.Errorf("replicas %v, want %v", cs, sc.wantReplicas)
				}
				wantNet, wantVols := true, []string{"data"}
				if sc.wantState == domain.StateDeleted {
					wantNet, wantVols = false, nil
				}
				if net != wantNet || !slices.Equal(vs, wantVols) {
					t.Errorf("network %v volumes %v, want %v %v", net, vs, wantNet, wantVols)
				}
				for _, name := range cs {
					rp, _ := e.rt.Replica(tn.ID, name)
					if !rp.Running || rp.Generation != sc.wantGen {
						t.Errorf("%s: running %v generation %d", name, rp.Running, rp.Generation)
					}
				}
				if sc.wantState == domain.StateRunning {
					if r, ok := e.routes.Get("acme"); !ok || len(r.Backends) != 2 {
						t.Errorf("route after restart: %+v", r)
					}
				}
			})
		}
	}
}
