package swarm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/docker/swarm"
	"appfactory/orchestrator/internal/enginetest"
	"appfactory/orchestrator/internal/runtimetest"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

func TestMain(m *testing.M) {
	enginetest.Main(m, "../../testdata/testserver")
}

// swarmEnv is a swarm runtime of an instance of the test's own on the
// test engine's one-node swarm.
type swarmEnv struct {
	*enginetest.Env
	rt    *swarm.Runtime
	image string
}

func newSwarmEnv(t *testing.T) *swarmEnv {
	t.Helper()
	e := &swarmEnv{Env: enginetest.New(t)}
	e.Swarm(t)
	e.image = e.Image(t)
	pool, err := stack.NewSubnetPool(fmt.Sprintf("10.251.%d.0/24", rand.IntN(256)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.rt, err = swarm.New(ctx, e.D, swarm.Options{Docker: docker.Options{
		Instance: "sw" + e.ID, Subnets: &poolSubnets{pool: pool, claims: map[string]string{}}, HealthTimeout: time.Minute,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// stack is the contract's tenant: a store owning a volume, which web's
// replicas wait for; web's port 8080 is the routed one.
func (e *swarmEnv) stack(tenant string, gen int64, web int, mode runtime.Mode) *runtime.Stack {
	svc := func(name string, n int) runtime.Service {
		return runtime.Service{
			Name: name, Replicas: n, Image: e.image, Env: []string{"SERVICE=" + name}, User: "65534:65534",
			MemoryBytes: 64 << 20, CPUs: 0.5, PidsLimit: 64, StopTimeout: 2 * time.Second,
		}
	}
	store := svc("store", 1)
	store.WaitHealthy = true
	store.Volumes = []runtime.VolumeMount{{Name: "data", Target: "/data"}}
	w := svc("web", web)
	w.Ports = []int{8080}
	w.Volumes = []runtime.VolumeMount{{Name: "data", Target: "/data"}}
	return &runtime.Stack{
		Tenant: tenant + e.ID, Slug: tenant, Generation: gen, Mode: mode, Pool: "trial",
		Volumes: []string{"data"}, Services: []runtime.Service{store, w}, Labels: e.Labels,
	}
}

func (e *swarmEnv) apply(t *testing.T, st *runtime.Stack) (runtime.Observation, *runtimetest.Recorder) {
	t.Helper()
	rec := &runtimetest.Recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o, err := e.rt.Apply(ctx, st, rec)
	if err != nil {
		t.Fatalf("apply generation %d %s: %v", st.Generation, st.Mode, err)
	}
	return o, rec
}

// client reaches the tasks on their overlay network, as the router does.
func (e *swarmEnv) client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: e.rt.DialContext, DisableKeepAlives: true}}
}

// serve asks every web replica for path on its overlay address.
func (e *swarmEnv) serve(t *testing.T, o runtime.Observation, method, path, body string) []string {
	t.Helper()
	var out []string
	for _, rp := range o.Service("web") {
		addr := rp.Dial(8080)
		if !strings.HasPrefix(addr, "10.251.") {
			t.Fatalf("replica %s is dialled at %q, want its address on the tenant's overlay", rp.Name, addr)
		}
		// Running is not serving yet: the orchestrator probes readiness too.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p := ready.DefaultProber()
		p.Dial = e.rt.DialContext
		err := p.Wait(ctx, "http://"+addr+"/healthz")
		cancel()
		if err != nil {
			out, _ := exec.Command("docker", "ps", "-a", "--format", "{{.Names}} {{.Status}}").CombinedOutput()
			t.Fatalf("%s on %s: %v\n%+v\n%s", rp.Name, addr, err, o.Replicas, out)
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		resp, err := e.client(5 * time.Second).Do(req)
		if err != nil {
			t.Fatalf("%s %s on %s: %v", method, path, rp.Name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))))
	}
	return out
}

func replicaNames(o runtime.Observation) []string {
	var n []string
	for _, rp := range o.Replicas {
		n = append(n, rp.Name)
	}
	slices.Sort(n)
	return n
}

// TestSwarmTenantLifecycle drives one tenant through what the reconciler
// asks of a runtime: create, apply again, scale, stop to zero and start
// with its data, a new generation, a snapshot and its restore, removal.
func TestSwarmTenantLifecycle(t *testing.T) {
	e := newSwarmEnv(t)
	ctx := context.Background()
	st := e.stack("acme", 1, 2, runtime.ModeRunning)
	t.Cleanup(func() { _ = e.rt.Remove(context.Background(), st.Tenant, nil) })

	o, rec := e.apply(t, st)
	if got := replicaNames(o); !slices.Equal(got, []string{"store-1", "web-1", "web-2"}) || !o.Network || !slices.Equal(o.Volumes, []string{"data"}) {
		t.Fatalf("applied: network %v volumes %v replicas %v", o.Network, o.Volumes, got)
	}
	for _, rp := range o.Replicas {
		if !rp.Running || rp.Generation != 1 || rp.ID == "" {
			t.Errorf("replica %+v: want running, generation 1, an id", rp)
		}
	}
	if ch := rec.Changes(); !slices.Equal(ch, []string{"created network", "created volume", "created service", "created service"}) {
		t.Errorf("changes %q", ch)
	}
	if got := e.serve(t, o, "POST", "/data", "kept"); !slices.Equal(got, []string{"204 ", "204 "}) {
		t.Fatalf("write through the endpoints: %v", got)
	}

	// The tasks' containers carry the hardening of orchestrator/docker.
	for _, rp := range o.Replicas {
		c, err := enginetest.Inspect(ctx, e.D, rp.ID)
		if err != nil {
			t.Fatal(err)
		}
		h := c.HostConfig
		if !h.ReadonlyRootfs || !slices.Equal(h.CapDrop, []string{"ALL"}) || h.Memory != 64<<20 || h.PidsLimit == nil || *h.PidsLimit != 64 ||
			c.Config.User != "65534:65534" || h.Privileged || h.Tmpfs == nil && !slices.ContainsFunc(c.Mounts, func(m struct{ Type, Source string }) bool { return m.Type == "tmpfs" }) {
			t.Errorf("task container of %s: %+v user %q mounts %+v", rp.Name, h, c.Config.User, c.Mounts)
		}
		// On the tenant's internal overlay alone: no leg on docker_gwbridge
		// (no way out, none to the host) and no port published.
		if _, ok := c.NetworkSettings.Networks[docker.NetworkName(e.rt.Instance(), "acme")]; len(c.NetworkSettings.Networks) != 1 || !ok || len(h.PortBindings) != 0 {
			t.Errorf("task container of %s: networks %v, port bindings %v", rp.Name, c.NetworkSettings.Networks, h.PortBindings)
		}
	}

	if _, rec := e.apply(t, st); len(rec.Changes()) != 0 {
		t.Errorf("a second apply changed %q", rec.Changes())
	}

	st3 := e.stack("acme", 1, 3, runtime.ModeRunning)
	o, rec = e.apply(t, st3)
	if len(o.Service("web")) != 3 || !slices.Equal(rec.Changes(), []string{"scaled service"}) {
		t.Errorf("scaled to 3: %v, changes %q", replicaNames(o), rec.Changes())
	}

	st3.Mode = runtime.ModeStopped
	o, _ = e.apply(t, st3)
	if len(o.Replicas) != 0 || !o.Network || len(o.Volumes) != 1 {
		t.Fatalf("stopped: %+v, want no replicas, the network and the volume", o)
	}
	if cs, err := e.D.ListContainers(ctx, map[string]string{docker.LabelTenant: st.Tenant}, false); err != nil || len(cs) != 0 {
		t.Errorf("%d containers run after the stop (%v)", len(cs), err)
	}

	// A snapshot of the stopped tenant, a change, and the snapshot back.
	var snap bytes.Buffer
	if err := e.rt.Snapshot(ctx, st.Tenant, &snap); err != nil {
		t.Fatalf("snapshot of a stopped tenant: %v", err)
	}
	st3.Mode = runtime.ModeRunning
	o, _ = e.apply(t, st3)
	if got := e.serve(t, o, "GET", "/data", ""); !slices.Equal(got, []string{"200 kept", "200 kept", "200 kept"}) {
		t.Fatalf("data after the stop and start: %v", got)
	}
	e.serve(t, o, "POST", "/data", "changed")
	if err := e.rt.RestoreSnapshot(ctx, st.Tenant, bytes.NewReader(snap.Bytes())); !errors.Is(err, runtime.ErrReplicasRunning) {
		t.Errorf("restore while running: %v, want ErrReplicasRunning", err)
	}
	st3.Mode = runtime.ModeStopped
	e.apply(t, st3)
	if err := e.rt.RestoreSnapshot(ctx, st.Tenant, bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatalf("restore: %v", err)
	}

	// A new generation replaces the tasks; the restored data is there.
	st2 := e.stack("acme", 2, 2, runtime.ModeRunning)
	o, rec = e.apply(t, st2)
	if len(o.Service("web")) != 2 || !slices.Equal(rec.Changes(), []string{"replaced service", "replaced service"}) {
		t.Errorf("generation 2: %v, changes %q", replicaNames(o), rec.Changes())
	}
	for _, rp := range o.Replicas {
		if rp.Generation != 2 {
			t.Errorf("replica %s of generation %d", rp.Name, rp.Generation)
		}
	}
	if got := e.serve(t, o, "GET", "/data", ""); !slices.Equal(got, []string{"200 kept", "200 kept"}) {
		t.Errorf("data after the restore: %v", got)
	}

	ts, err := e.rt.Tenants(ctx)
	if err != nil || !slices.ContainsFunc(ts, func(o runtime.Observation) bool { return o.Tenant == st.Tenant && len(o.Replicas) == 3 }) {
		t.Errorf("Tenants: %v %+v", err, ts)
	}
	if err := e.rt.Remove(ctx, st.Tenant, nil); err != nil {
		t.Fatal(err)
	}
	if o, err := e.rt.Observe(ctx, st.Tenant); err != nil || !o.Empty() {
		t.Errorf("after Remove: %+v %v", o, err)
	}
	cs, _ := e.D.ListContainers(ctx, map[string]string{docker.LabelTenant: st.Tenant}, true)
	ns, _ := e.D.ListNetworks(ctx, map[string]string{docker.LabelTenant: st.Tenant})
	vs, _ := e.D.ListVolumes(ctx, map[string]string{docker.LabelTenant: st.Tenant})
	if len(cs)+len(ns)+len(vs) != 0 {
		t.Errorf("after Remove: %d containers, %d networks, %d volumes", len(cs), len(ns), len(vs))
	}
}

// TestSwarmPause: ModePaused freezes the tasks' containers and swarm
// keeps the tasks, though their health check would fail within a second
// were it run; Resume thaws the same tasks, which serve at once.
func TestSwarmPause(t *testing.T) {
	e := newSwarmEnv(t)
	ctx := context.Background()
	st := e.stack("gamma", 1, 1, runtime.ModeRunning)
	st.Services[1].Healthcheck = &runtime.Healthcheck{Test: []string{"CMD", "/server", "check"}, Interval: 200 * time.Millisecond, Timeout: 300 * time.Millisecond, Retries: 2}
	t.Cleanup(func() { _ = e.rt.Remove(context.Background(), st.Tenant, nil) })
	o, _ := e.apply(t, st)
	e.serve(t, o, "POST", "/data", "frozen")
	ids := func(o runtime.Observation) []string {
		var ids []string
		for _, rp := range o.Replicas {
			ids = append(ids, rp.ID)
		}
		return ids
	}
	before := ids(o)

	st.Mode = runtime.ModePaused
	o, rec := e.apply(t, st)
	if !slices.Equal(rec.Changes(), []string{"paused container", "paused container"}) {
		t.Errorf("pause: changes %q", rec.Changes())
	}
	for _, rp := range o.Replicas {
		if !rp.Paused || rp.Running || rp.State != "paused" {
			t.Errorf("paused replica %+v", rp)
		}
	}
	if web := o.Service("web"); len(web) != 1 || !strings.HasPrefix(web[0].Dial(8080), "10.251.") {
		t.Fatalf("a paused web replica keeps its address: %+v", web)
	}
	if _, err := e.client(300 * time.Millisecond).Get("http://" + o.Service("web")[0].Dial(8080) + "/healthz"); err == nil {
		t.Error("a paused replica answered")
	}
	// Ten health check intervals: a check run on the frozen container
	// would have failed twice, and swarm would have replaced the task.
	time.Sleep(2 * time.Second)
	if o, err := e.rt.Observe(ctx, st.Tenant); err != nil || !slices.Equal(ids(o), before) || !o.Replicas[0].Paused {
		t.Errorf("after 2 s paused: %v, replicas %+v, want the tasks %v kept paused", err, o.Replicas, before)
	}

	if err := e.rt.Resume(ctx, st.Tenant); err != nil {
		t.Fatal(err)
	}
	st.Mode = runtime.ModeRunning
	o, rec = e.apply(t, st)
	if len(rec.Changes()) != 0 || !slices.Equal(ids(o), before) {
		t.Errorf("after Resume: changes %q, replicas %v, want none and %v", rec.Changes(), ids(o), before)
	}
	if got := e.serve(t, o, "GET", "/data", ""); !slices.Equal(got, []string{"200 frozen"}) {
		t.Errorf("data after the thaw: %v", got)
	}
	// ModeRunning thaws on its own too.
	st.Mode = runtime.ModePaused
	e.apply(t, st)
	st.Mode = runtime.ModeRunning
	if _, rec = e.apply(t, st); !slices.Equal(rec.Changes(), []string{"unpaused container", "unpaused container"}) {
		t.Errorf("running after paused: changes %q", rec.Changes())
	}
}

// TestSwarmBeginErrorChangesNothing: a Reporter that refuses the first
// change leaves no object.
func TestSwarmBeginErrorChangesNothing(t *testing.T) {
	e := newSwarmEnv(t)
	st := e.stack("beta", 1, 1, runtime.ModeRunning)
	refused := errors.New("refused")
	if _, err := e.rt.Apply(context.Background(), st, &runtimetest.Recorder{BeginErr: refused}); !errors.Is(err, refused) {
		t.Fatalf("apply: %v, want the Reporter's error", err)
	}
	if o, err := e.rt.Observe(context.Background(), st.Tenant); err != nil || !o.Empty() {
		t.Errorf("after a refused Begin: %+v %v", o, err)
	}
}

// poolSubnets hands out the /28s of a pool, one per tenant.
type poolSubnets struct {
	pool   *stack.SubnetPool
	claims map[string]string
}

func (s *poolSubnets) Claim(_ context.Context, tenant string) (string, error) {
	if sn, ok := s.claims[tenant]; ok {
		return sn, nil
	}
	used := map[string]bool{}
	for _, sn := range s.claims {
		used[sn] = true
	}
	sn, err := s.pool.Pick(used)
	if err == nil {
		s.claims[tenant] = sn
	}
	return sn, err
}

func (s *poolSubnets) Reject(_ context.Context, tenant, subnet string) error {
	s.pool.Block(subnet)
	delete(s.claims, tenant)
	return nil
}
