package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"appfactory/orchestrator/runtime"
)

// Subnets hands out the address ranges of tenant networks. The engine may
// refuse one (a network appfactory did not make overlaps it): Apply rejects
// it and claims another.
type Subnets interface {
	// Claim returns the tenant's subnet, claiming a free one if it has none.
	Claim(ctx context.Context, tenant string) (string, error)
	// Reject sets a subnet aside for good and drops the tenant's claim on it.
	Reject(ctx context.Context, tenant, subnet string) error
}

// Options configure a Runtime. Instance is required; a runtime without
// Subnets observes and monitors but cannot create tenant networks.
type Options struct {
	// Instance is this appfactory's identity: every object carries it in
	// its name and labels, and only objects carrying it are touched.
	Instance string
	Subnets  Subnets
	// HealthTimeout bounds the wait for a service that a later one needs
	// healthy, and for a started replica's address (default 60 s).
	HealthTimeout time.Duration
}

// Runtime is the tenant-level runtime over one engine: it implements
// runtime.Runtime and runtime.Monitor.
type Runtime struct {
	*Docker
	opts Options
}

var (
	_ runtime.Runtime = (*Runtime)(nil)
	_ runtime.Monitor = (*Runtime)(nil)
)

// NewRuntime returns the tenant-level runtime of an engine.
func NewRuntime(d *Docker, o Options) (*Runtime, error) {
	if d == nil || o.Instance == "" {
		return nil, errors.New("docker: the engine and the instance id are required")
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 60 * time.Second
	}
	return &Runtime{Docker: d, opts: o}, nil
}

// Capabilities implements runtime.Runtime: the engine pauses containers
// (the cgroup freezer), so the pause tier of passivation is available.
func (r *Runtime) Capabilities() runtime.Capabilities {
	return runtime.Capabilities{Pause: true}
}

// Instance is the instance id the runtime's objects carry.
func (r *Runtime) Instance() string { return r.opts.Instance }

// engineState is a tenant's actual objects.
type engineState struct {
	containers map[string]Container // by name
	networks   []Network
	volumes    map[string]Volume // by name
}

// list lists the containers (all of them, not only running ones),
// networks and volumes carrying the labels.
func (r *Runtime) list(ctx context.Context, labels map[string]string) ([]Container, []Network, []Volume, error) {
	cs, err := r.ListContainers(ctx, labels, true)
	if err != nil {
		return nil, nil, nil, err
	}
	ns, err := r.ListNetworks(ctx, labels)
	if err != nil {
		return nil, nil, nil, err
	}
	vs, err := r.ListVolumes(ctx, labels)
	if err != nil {
		return nil, nil, nil, err
	}
	return cs, ns, vs, nil
}

// listTenant lists a tenant's objects by their labels: only those of this
// instance count.
func (r *Runtime) listTenant(ctx context.Context, tenant string) (*engineState, error) {
	cs, ns, vs, err := r.list(ctx, map[string]string{LabelTenant: tenant, LabelInstance: r.opts.Instance})
	if err != nil {
		return nil, err
	}
	es := &engineState{containers: map[string]Container{}, networks: ns, volumes: map[string]Volume{}}
	// The listing is the engine's view, written after the container's own
	// state: just after a container dies (or starts) it may still show the
	// old state, and a pass woken by the death would find nothing to
	// repair. Inspecting reads the container itself.
	exact := make([]Container, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			exact[i], errs[i] = r.Inspect(ctx, c.ID)
			if errors.Is(errs[i], runtime.ErrNotFound) {
				exact[i], errs[i] = Container{}, nil // removed since the listing
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, c := range exact {
		if c.ID != "" {
			es.containers[c.Name] = c
		}
	}
	for _, v := range vs {
		es.volumes[v.Name] = v
	}
	return es, nil
}

// Observe implements runtime.Runtime.
func (r *Runtime) Observe(ctx context.Context, tenant string) (runtime.Observation, error) {
	es, err := r.listTenant(ctx, tenant)
	if err != nil {
		return runtime.Observation{}, err
	}
	return es.observation(r.opts.Instance, tenant), nil
}

// observation is what the contract shows of a tenant's objects.
func (es *engineState) observation(instance, tenant string) runtime.Observation {
	o := runtime.Observation{Tenant: tenant, Network: len(es.networks) > 0}
	for _, v := range es.volumes {
		o.Volumes = append(o.Volumes, v.Labels[LabelComposeVolume])
	}
	slices.Sort(o.Volumes)
	for _, c := range es.containers {
		o.Replicas = append(o.Replicas, replicaOf(instance, c))
	}
	sortReplicas(o.Replicas)
	return o
}

// replicaOf is the contract's view of a container.
func replicaOf(instance string, c Container) runtime.Replica {
	n, _ := strconv.Atoi(c.Labels[LabelComposeNumber])
	gen, _ := strconv.ParseInt(c.Labels[LabelGeneration], 10, 64)
	return runtime.Replica{
		ID: c.ID, Name: ReplicaName(c.Labels), Service: c.Labels[LabelService], Number: n,
		Generation: gen, Image: c.Image, State: c.State, Running: c.Running && !c.Paused, Paused: c.Paused,
		Health: c.Health, ExitCode: c.ExitCode, Address: c.IPs[tenantNetwork(instance, c.Labels)],
		StartedAt: c.StartedAt, OOMKilled: c.OOMKilled, RestartCount: c.RestartCount,
	}
}

// sortReplicas orders replicas by service, then number.
func sortReplicas(rs []runtime.Replica) {
	slices.SortFunc(rs, func(a, b runtime.Replica) int {
		if a.Service != b.Service {
			if a.Service < b.Service {
				return -1
			}
			return 1
		}
		return a.Number - b.Number
	})
}

// Tenants implements runtime.Runtime: one listing of each kind of object
// of this instance, grouped by tenant.
func (r *Runtime) Tenants(ctx context.Context) ([]runtime.Observation, error) {
	cs, ns, vs, err := r.list(ctx, map[string]string{LabelInstance: r.opts.Instance})
	if err != nil {
		return nil, err
	}
	by := map[string]*engineState{}
	get := func(labels map[string]string) *engineState {
		t := labels[LabelTenant]
		if by[t] == nil {
			by[t] = &engineState{containers: map[string]Container{}, volumes: map[string]Volume{}}
		}
		return by[t]
	}
	for _, c := range cs {
		get(c.Labels).containers[c.Name] = c
	}
	for _, n := range ns {
		es := get(n.Labels)
		es.networks = append(es.networks, n)
	}
	for _, v := range vs {
		get(v.Labels).volumes[v.Name] = v
	}
	out := make([]runtime.Observation, 0, len(by))
	for _, t := range slices.Sorted(maps.Keys(by)) {
		out = append(out, by[t].observation(r.opts.Instance, t))
	}
	return out, nil
}

// Resume implements runtime.Runtime: a frozen process carries on where it
// stopped, so every paused replica is thawed at once.
func (r *Runtime) Resume(ctx context.Context, tenant string) error {
	cs, err := r.ListContainers(ctx, map[string]string{LabelTenant: tenant, LabelInstance: r.opts.Instance}, false)
	if err != nil {
		return err
	}
	return eachConcurrently(cs, func(c Container) error {
		if !c.Paused {
			return nil
		}
		if err := r.Unpause(ctx, c.ID); err != nil {
			return fmt.Errorf("resume %s: %w", c.Name, err)
		}
		return nil
	})
}

// tenantNetwork is the name of the network a container of this instance
// joined, from its labels.
func tenantNetwork(instance string, labels map[string]string) string {
	return NetworkName(instance, strings.TrimPrefix(labels[LabelComposeProject], "af-"))
}

// eachConcurrently runs fn on every item at once and joins the errors.
func eachConcurrently[T any](items []T, fn func(T) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(items))
	for i, it := range items {
		wg.Go(func() { errs[i] = fn(it) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Events implements runtime.Monitor: the engine's events about this
// instance's containers, with their tenant and replica.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, <-chan error) {
	in, errs := r.Docker.Events(ctx, map[string]string{LabelInstance: r.opts.Instance})
	out := make(chan runtime.Event, cap(in))
	go func() {
		defer close(out)
		for e := range in {
			ev := runtime.Event{
				Tenant: e.Labels[LabelTenant], Replica: ReplicaName(e.Labels), Type: e.Type, Action: e.Action,
				ID: e.ID, Name: e.Name, Time: e.Time, ExitCode: e.ExitCode, Signal: e.Labels["signal"],
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errs
}

// BuildImage implements runtime.Images: images built carry the instance
// label like every other object of this instance.
func (r *Runtime) BuildImage(ctx context.Context, buildContext io.Reader, tags []string, labels map[string]string, out func(line string)) (string, error) {
	return r.Docker.BuildImage(ctx, buildContext, tags, withLabels(labels, map[string]string{LabelInstance: r.opts.Instance}), out)
}
