package orchestrator

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/docker"
	"appfactory/store"
)

// killSwitch is a failpoint hook that stops a running reconciler dead at a
// named point: it cancels the reconciler's context (every engine and
// database call in flight ends) and aborts the pass, as SIGKILL would.
type killSwitch struct {
	mu     sync.Mutex
	point  string
	cancel context.CancelFunc
	hit    chan struct{}
}

// errKilled is what a failpoint panics with to stop a reconciler dead.
var errKilled = errors.New("killed at failpoint")

func (k *killSwitch) hook(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if name != k.point || k.cancel == nil {
		return
	}
	k.cancel()
	k.cancel = nil
	close(k.hit)
	panic(errKilled)
}

// runKillable starts a reconciler that dies at point, and returns a
// channel that tells, once it is stopped, whether it died there.
func (e *factoryEnv) runKillable(t *testing.T, point string) <-chan bool {
	t.Helper()
	e.stop()
	ctx, cancel := context.WithCancel(context.Background())
	k := &killSwitch{point: point, cancel: cancel, hit: make(chan struct{})}
	e.r = e.newReconciler(t, k.hook)
	e.svc.Reconciler, e.svc.Factory = e.r, e.r.Factory()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.r.Run(ctx)
	}()
	e.stop = func() { cancel(); <-done }
	dead := make(chan bool, 1)
	go func() {
		hit := false
		select {
		case <-k.hit:
			hit = true
		case <-time.After(60 * time.Second):
		}
		e.stop()
		dead <- hit
	}()
	return dead
}

// TestCrashInjectionConverges kills the reconciler at points of a deploy,
// an upgrade and a delete on the real engine, starts a fresh one over the
// same database, and checks that exactly the expected objects exist.
func TestCrashInjectionConverges(t *testing.T) {
	cases := []struct {
		op, point string
	}{
		{"deploy", "after-network"},
		{"deploy", "after-container:store-1"},
		{"deploy", "after-container:web-2"},
		{"upgrade", "before-remove-container:store-1"},
		{"upgrade", "after-start:store-1"},
		{"delete", "before-remove-container:store-1"},
		{"delete", "before-remove-volume"},
		{"delete", "before-remove-network"},
	}
	for _, tc := range cases {
		t.Run(tc.op+"/"+tc.point, func(t *testing.T) {
			e := newFactoryEnv(t)
			ctx := context.Background()
			app := e.app(t, "Crash "+e.ID, "1.0", "demo", 2) // a slug of its own: names are engine-wide
			var tn *store.Tenant
			if tc.op != "deploy" {
				tn = e.deploy(t, app)
			}
			dead := e.runKillable(t, tc.point)
			var err error
			switch tc.op {
			case "deploy":
				tn, err = e.svc.DeployApp(ctx, app, e.user)
			case "upgrade":
				err = e.svc.Upgrade(ctx, tn, e.user, "2.0")
			case "delete":
				err = e.svc.Delete(ctx, tn, e.user)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !<-dead {
				t.Fatalf("the reconciler never reached %s", tc.point)
			}

			e.start(t, nil) // the restart: a fresh reconciler over the same database
			want, gen := domain.StateRunning, "1"
			switch tc.op {
			case "upgrade":
				gen = "2"
			case "delete":
				want = domain.StateDeleted
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				got, _ := e.db.TenantByID(ctx, tn.ID)
				if got.State == want && strconv.FormatInt(got.Generation, 10) == gen {
					break
				}
				if time.Now().After(deadline) || got.State == domain.StateFailed {
					e.fatalWithEvents(t, tn.ID, "no convergence after the restart")
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Also nothing of the instance beyond the tenant's objects.
			// A failed list would pass for "nothing left" after a delete.
			all, err := e.D.ListContainers(ctx, map[string]string{docker.LabelInstance: e.instance}, true)
			if err != nil {
				t.Fatal(err)
			}
			nets, err := e.D.ListNetworks(ctx, map[string]string{docker.LabelInstance: e.instance})
			if err != nil {
				t.Fatal(err)
			}
			vols, err := e.D.ListVolumes(ctx, map[string]string{docker.LabelInstance: e.instance})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range all {
				names = append(names, c.Name)
				if !c.Running || c.Labels[docker.LabelGeneration] != gen {
					t.Errorf("%s: state %s generation %s", c.Name, c.State, c.Labels[docker.LabelGeneration])
				}
			}
			slices.Sort(names)
			p := docker.NamePrefix(e.instance, tn.Slug)
			wantNames, wantNets, wantVols := []string{p + "-store-1", p + "-web-1", p + "-web-2"}, 1, 1
			if want == domain.StateDeleted {
				wantNames, wantNets, wantVols = nil, 0, 0
			}
			if !slices.Equal(names, wantNames) || len(nets) != wantNets || len(vols) != wantVols {
				t.Fatalf("after convergence: containers %v, %d networks, %d volumes; want %v, %d, %d", names, len(nets), len(vols), wantNames, wantNets, wantVols)
			}
			if want == domain.StateRunning {
				if status, _ := get(t, e.webURL(t, tn.Slug)+"/healthz"); status != 200 {
					t.Errorf("tenant answers %d after convergence", status)
				}
			}
		})
	}
}
