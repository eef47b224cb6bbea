package swarm

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/runtime"
)

// state is a tenant's swarm objects: its services (by name), their
// current tasks, and its networks and volumes.
type state struct {
	services map[string]swarm.Service
	tasks    map[string][]swarm.Task // by service id: the tasks meant to run
	networks []network.Summary
	volumes  []string // Stack.Volumes names
}

// labelArgs are engine filters for labels.
func labelArgs(labels map[string]string) filters.Args {
	args := filters.NewArgs()
	for k, v := range labels {
		args.Add("label", k+"="+v)
	}
	return args
}

// list reads the services, tasks, networks and volumes carrying labels,
// grouped by tenant.
func (r *Runtime) list(ctx context.Context, labels map[string]string) (map[string]*state, error) {
	by := map[string]*state{}
	get := func(l map[string]string) *state {
		t := l[docker.LabelTenant]
		if by[t] == nil {
			by[t] = &state{services: map[string]swarm.Service{}, tasks: map[string][]swarm.Task{}}
		}
		return by[t]
	}
	svcs, err := r.cli.ServiceList(ctx, types.ServiceListOptions{Filters: labelArgs(labels)})
	if err != nil {
		return nil, docker.Wrap(err, "list services")
	}
	owner := map[string]*state{}
	for _, s := range svcs {
		st := get(s.Spec.Labels)
		st.services[s.Spec.Name] = s
		owner[s.ID] = st
	}
	if len(svcs) > 0 {
		args := filters.NewArgs(filters.Arg("desired-state", "running"))
		if len(svcs) == 1 {
			args.Add("service", svcs[0].ID)
		}
		tasks, err := r.cli.TaskList(ctx, types.TaskListOptions{Filters: args})
		if err != nil {
			return nil, docker.Wrap(err, "list tasks")
		}
		for _, t := range tasks {
			if st := owner[t.ServiceID]; st != nil {
				st.tasks[t.ServiceID] = append(st.tasks[t.ServiceID], t)
			}
		}
	}
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: labelArgs(labels)})
	if err != nil {
		return nil, docker.Wrap(err, "list networks")
	}
	for _, n := range nets {
		st := get(n.Labels)
		st.networks = append(st.networks, n)
	}
	vols, err := r.ListVolumes(ctx, labels)
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		st := get(v.Labels)
		st.volumes = append(st.volumes, v.Labels[docker.LabelComposeVolume])
	}
	return by, nil
}

// listTenant reads one tenant's objects of this instance.
func (r *Runtime) listTenant(ctx context.Context, tenant string) (*state, error) {
	by, err := r.list(ctx, map[string]string{docker.LabelTenant: tenant, docker.LabelInstance: r.instance()})
	if err != nil {
		return nil, err
	}
	if st := by[tenant]; st != nil {
		return st, nil
	}
	return &state{services: map[string]swarm.Service{}, tasks: map[string][]swarm.Task{}}, nil
}

// Observe implements runtime.Runtime.
func (r *Runtime) Observe(ctx context.Context, tenant string) (runtime.Observation, error) {
	st, err := r.listTenant(ctx, tenant)
	if err != nil {
		return runtime.Observation{}, err
	}
	return r.observation(tenant, st), nil
}

// Tenants implements runtime.Runtime.
func (r *Runtime) Tenants(ctx context.Context) ([]runtime.Observation, error) {
	by, err := r.list(ctx, map[string]string{docker.LabelInstance: r.instance()})
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Observation, 0, len(by))
	for _, t := range slices.Sorted(maps.Keys(by)) {
		out = append(out, r.observation(t, by[t]))
	}
	return out, nil
}

// observation is what the contract shows: one replica per slot of each
// service, the newest task of the slot.
func (r *Runtime) observation(tenant string, st *state) runtime.Observation {
	o := runtime.Observation{Tenant: tenant, Network: len(st.networks) > 0, Volumes: slices.Sorted(slices.Values(st.volumes))}
	for _, s := range st.services {
		slots := map[int]swarm.Task{}
		for _, t := range st.tasks[s.ID] {
			if cur, ok := slots[t.Slot]; !ok || t.Meta.CreatedAt.After(cur.Meta.CreatedAt) {
				slots[t.Slot] = t
			}
		}
		for _, t := range slots {
			o.Replicas = append(o.Replicas, r.replicaOf(s, t))
		}
	}
	slices.SortFunc(o.Replicas, func(a, b runtime.Replica) int {
		if a.Service != b.Service {
			if a.Service < b.Service {
				return -1
			}
			return 1
		}
		return a.Number - b.Number
	})
	return o
}

// replicaOf is the contract's view of a task. A task runs once its
// container is healthy (swarm holds it in "starting" until then); its
// address is the one it has on the tenant's overlay network.
func (r *Runtime) replicaOf(s swarm.Service, t swarm.Task) runtime.Replica {
	labels := s.Spec.Labels
	if t.Spec.ContainerSpec != nil {
		labels = t.Spec.ContainerSpec.Labels
	}
	gen, _ := strconv.ParseInt(labels[docker.LabelGeneration], 10, 64)
	rp := runtime.Replica{
		Name: labels[docker.LabelService] + "-" + strconv.Itoa(t.Slot), Service: labels[docker.LabelService], Number: t.Slot,
		Generation: gen, Image: labels[LabelImage], State: taskState(t.Status.State),
		Running: t.Status.State == swarm.TaskStateRunning, StartedAt: t.Status.Timestamp,
	}
	if t.NodeID == r.node && (rp.Running || t.Status.State == swarm.TaskStateStarting) {
		c := r.container(t)
		rp.Running, rp.Paused = c.started && !c.paused, c.paused
		switch {
		case c.paused:
			rp.State = "paused"
		case c.started:
			rp.State = "running"
		}
	}
	if cs := t.Status.ContainerStatus; cs != nil {
		rp.ID, rp.ExitCode = cs.ContainerID, cs.ExitCode
	}
	if t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.Healthcheck != nil {
		switch t.Status.State {
		case swarm.TaskStateRunning:
			rp.Health = "healthy"
		case swarm.TaskStateStarting:
			rp.Health = "starting"
		}
	}
	if rp.Running || rp.Paused {
		rp.Address = overlayAddress(s, t)
	}
	return rp
}

// overlayAddress is a task's IPv4 address on the network its service
// names (the tenant's overlay), empty while it has none.
func overlayAddress(s swarm.Service, t swarm.Task) string {
	if len(s.Spec.TaskTemplate.Networks) == 0 {
		return ""
	}
	target := s.Spec.TaskTemplate.Networks[0].Target
	for _, a := range t.NetworksAttachments {
		if a.Network.ID != target && a.Network.Spec.Name != target {
			continue
		}
		for _, cidr := range a.Addresses {
			if p, err := netip.ParsePrefix(cidr); err == nil && p.Addr().Is4() {
				return p.Addr().String()
			}
		}
	}
	return ""
}

// local is what the container of a task of this node says: whether it
// was started (and runs, or is paused).
type local struct{ started, paused bool }

// container reads whether the container of a task of this node runs. The
// task does not say while swarm holds it in "starting" until its health
// check passes, though the container serves meanwhile (the orchestrator
// probes readiness itself), nor whether it is paused.
func (r *Runtime) container(t swarm.Task) local {
	cs := t.Status.ContainerStatus
	if cs == nil || cs.ContainerID == "" {
		return local{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := r.cli.ContainerInspect(ctx, cs.ContainerID)
	if err != nil || c.State == nil || !c.State.Running {
		return local{}
	}
	return local{started: true, paused: c.State.Paused}
}

// taskState is a task's state in the contract's words (the engine's words
// for a container).
func taskState(s swarm.TaskState) string {
	switch s {
	case swarm.TaskStateRunning:
		return "running"
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
		return "exited"
	}
	return "created"
}
