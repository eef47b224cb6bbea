package orchestrator

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/runtime"
)

// TestSwarmTenantThroughTheRouter runs a tenant of two replicas on the
// swarm runtime through what the engine runtime's tests drive: deploy,
// both replicas served through the router, a document kept across an
// upgrade, passivation to zero tasks, a herd that wakes it with one
// activation, and a delete that leaves nothing.
func TestSwarmTenantThroughTheRouter(t *testing.T) {
	lr := newLiveRouterOn(t, true)
	ctx := context.Background()
	tn := lr.deploy(t, lr.app(t, "Swarmed", "1.0", "demo", 2))
	title := "Swarmed Docs " + lr.ID

	r, _ := lr.routes.Get(tn.Slug)
	if len(r.Backends) != 2 || r.Backends[0] == r.Backends[1] {
		t.Fatalf("route %+v, want two backends", r)
	}
	for _, b := range r.Backends {
		if ap, err := netip.ParseAddrPort(b); err != nil || !netip.MustParsePrefix(lr.pool.String()).Contains(ap.Addr()) {
			t.Errorf("backend %s is not an address on the tenant's overlay, in %s", b, lr.pool)
		}
		if code, body := lr.get(t, "http://"+b+"/"); code != 200 || !strings.Contains(body, title) {
			t.Errorf("replica %s answered %d", b, code)
		}
	}
	if code, body := lr.request(t, tn.Slug, "/", "text/html"); code != 200 || !strings.Contains(body, title) {
		t.Fatalf("through the router: %d", code)
	}

	// A document written through one replica is on the shared volume.
	resp, err := lr.client().PostForm("http://"+r.Backends[0]+"/documents", url.Values{"doctype": {"Contract"}, "title": {"Kept on the swarm"}, "f.amount": {"7"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	oldImage := tn.Image
	if err := lr.svc.Upgrade(ctx, tn, lr.user, "2.0"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, _ := lr.db.TenantByID(ctx, tn.ID)
		obs, _ := lr.rt.Observe(ctx, tn.ID)
		if got.Generation == 2 && got.State == domain.StateRunning && got.Image != oldImage && len(obs.Replicas) == 3 && allOf(obs, 2) {
			tn = got
			break
		}
		if time.Now().After(deadline) || got.State == domain.StateFailed {
			lr.fatalWithEvents(t, tn.ID, "no upgrade to generation 2 in 90 s")
		}
	}
	if code, body := lr.request(t, tn.Slug, "/", "text/html"); code != 200 || !strings.Contains(body, "Kept on the swarm") {
		t.Fatalf("after the upgrade: %d, document kept %v", code, strings.Contains(body, "Kept on the swarm"))
	}
	cs, _, _ := lr.objects(t, tn.ID)
	for _, c := range cs {
		if c.Running && c.Labels[docker.LabelGeneration] != "2" {
			t.Errorf("%s of generation %s (%s) runs after the upgrade", c.Name, c.Labels[docker.LabelGeneration], c.State)
		}
	}

	// Passivated, the services have no task left running.
	lr.startPassivator(t, time.Second)
	lr.waitState(t, tn.ID, domain.StatePassivated, 30*time.Second)
	if cs, err := lr.D.ListContainers(ctx, map[string]string{docker.LabelTenant: tn.ID}, false); err != nil || len(cs) != 0 {
		t.Fatalf("%d containers run after passivation (%v)", len(cs), err)
	}
	before := lr.act.calls.Load()
	const herd = 30
	var wg sync.WaitGroup
	codes := make(chan int, herd)
	start := time.Now()
	for range herd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := lr.request(t, tn.Slug, "/healthz", "application/json")
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("herd request got %d", c)
		}
	}
	if n := lr.act.calls.Load() - before; n != 1 {
		t.Errorf("herd of %d: %d activations, want 1", herd, n)
	}
	t.Logf("herd of %d on a tenant scaled to zero served in %s", herd, time.Since(start))

	if err := lr.svc.Delete(ctx, tn, lr.user); err != nil {
		t.Fatal(err)
	}
	lr.waitState(t, tn.ID, domain.StateDeleted, 60*time.Second)
	if cs, ns, vs := lr.objects(t, tn.ID); len(cs)+len(ns)+len(vs) != 0 {
		t.Fatalf("left behind: %d containers, %d networks, %d volumes", len(cs), len(ns), len(vs))
	}
	if obs, err := lr.rt.Observe(ctx, tn.ID); err != nil || !obs.Empty() {
		t.Fatalf("the runtime still observes %+v (%v)", obs, err)
	}
}

// allOf reports whether every replica observed runs generation gen.
func allOf(o runtime.Observation, gen int64) bool {
	for _, rp := range o.Replicas {
		if rp.Generation != gen || !rp.Running {
			return false
		}
	}
	return true
}
