package swarm

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/runtime"
)

// quiet is the Reporter of a caller that gave none.
type quiet struct{}

func (quiet) Begin(context.Context, bool) error       { return nil }
func (quiet) Changed(context.Context, runtime.Change) {}
func (quiet) Point(string)                            {}

// applyPass is one Apply.
type applyPass struct {
	r     *Runtime
	st    *runtime.Stack
	want  *tenantObjects
	have  *state
	rep   runtime.Reporter
	began bool
}

func (a *applyPass) begin(ctx context.Context, creating bool) error {
	if a.began {
		return nil
	}
	a.began = true
	return a.rep.Begin(ctx, creating)
}

// Apply implements runtime.Runtime: the overlay network and the volumes,
// services no longer in the stack removed, then each service created,
// updated (a new generation or configuration replaces its tasks) or scaled
// in dependency order, waiting for those a later one needs healthy. In
// ModeStopped every service is scaled to zero. In ModePaused the services
// keep their tasks and the containers of those on this node are frozen
// (swarm has no pause of its own; a frozen container is not health
// checked, so swarm leaves its task running); ModeRunning thaws them.
func (r *Runtime) Apply(ctx context.Context, st *runtime.Stack, rep runtime.Reporter) (runtime.Observation, error) {
	if rep == nil {
		rep = quiet{}
	}
	want, err := r.expand(ctx, st)
	if err != nil {
		return runtime.Observation{}, err
	}
	have, err := r.listTenant(ctx, st.Tenant)
	if err != nil {
		return runtime.Observation{}, runtime.StepFailed(err, "Reading the deployment's services failed")
	}
	a := &applyPass{r: r, st: st, want: want, have: have, rep: rep}
	if err := a.ensureNetwork(ctx); err != nil {
		return runtime.Observation{}, err
	}
	if err := a.ensureVolumes(ctx); err != nil {
		return runtime.Observation{}, err
	}
	if err := a.removeStale(ctx); err != nil {
		return runtime.Observation{}, err
	}
	for _, w := range want.services {
		n := w.replicas
		if st.Mode == runtime.ModeStopped {
			n = 0
		}
		if err := a.ensureService(ctx, w, n); err != nil {
			return runtime.Observation{}, err
		}
		if n > 0 && w.waitHealthy {
			if err := a.waitService(ctx, w, n); err != nil {
				return runtime.Observation{}, err
			}
		}
	}
	for _, w := range want.services {
		n := w.replicas
		if st.Mode == runtime.ModeStopped {
			n = 0
		}
		if err := a.waitService(ctx, w, n); err != nil {
			return runtime.Observation{}, err
		}
	}
	if err := a.freeze(ctx, st.Mode == runtime.ModePaused); err != nil {
		return runtime.Observation{}, err
	}
	return r.Observe(ctx, st.Tenant)
}

// freeze pauses (or, with paused false, thaws) the tenant's task
// containers on this node. The engine reaches no container of another
// node: a task there keeps running while the tenant is paused.
func (a *applyPass) freeze(ctx context.Context, paused bool) error {
	cs, err := a.r.ListContainers(ctx, map[string]string{docker.LabelTenant: a.st.Tenant, docker.LabelInstance: a.r.instance()}, false)
	if err != nil {
		return runtime.StepFailed(err, "Reading the deployment's containers failed")
	}
	for _, c := range cs {
		if c.Paused == paused || !c.Running && !c.Paused {
			continue
		}
		act, do := "paused", a.r.Pause
		if !paused {
			act, do = "unpaused", a.r.Unpause
		}
		if err := do(ctx, c.ID); err != nil {
			return runtime.StepFailed(err, "Pausing the deployment failed")
		}
		a.rep.Changed(ctx, runtime.Change{Action: act, Object: "container", Name: c.Name})
	}
	return nil
}

// ensureNetwork creates the tenant's overlay network, internal (no route
// out, and no leg on docker_gwbridge, so no path to the host or beyond),
// attachable (a container outside swarm, such as the snapshots' door, can
// join it) and encrypted when the options say so, on a subnet of
// appfactory's pool.
func (a *applyPass) ensureNetwork(ctx context.Context) error {
	var found bool
	for _, n := range a.have.networks {
		if n.Name == a.want.network {
			found = true
			continue
		}
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if err := a.r.RemoveNetwork(ctx, n.ID); err != nil {
			return runtime.StepFailed(err, "Removing the old network %s failed", n.Name)
		}
		a.rep.Changed(ctx, runtime.Change{Action: "removed", Object: "network", Name: n.Name, Detail: "no longer the tenant's network"})
	}
	if found {
		return nil
	}
	if err := a.begin(ctx, true); err != nil {
		return err
	}
	subnets := a.r.opts.Docker.Subnets
	if subnets == nil {
		return runtime.StepFailed(errors.New("the runtime has no subnets to give"), "Creating network %s failed", a.want.network)
	}
	opts := map[string]string{}
	if a.r.opts.Encrypted {
		opts["encrypted"] = ""
	}
	for range 8 {
		subnet, err := subnets.Claim(ctx, a.st.Tenant)
		if err != nil {
			return runtime.StepFailed(err, "No network address range is free")
		}
		// The swarm's allocator learns of an overlap only after the
		// network is made, and then leaves its tasks unscheduled: the
		// subnet is checked against every network first.
		if taken, err := a.r.subnetTaken(ctx, subnet); err != nil {
			return runtime.StepFailed(err, "Creating network %s failed", a.want.network)
		} else if taken {
			if err := subnets.Reject(ctx, a.st.Tenant, subnet); err != nil {
				return err
			}
			continue
		}
		_, err = a.r.cli.NetworkCreate(ctx, a.want.network, network.CreateOptions{
			Driver: "overlay", Attachable: true, Internal: true, Options: opts,
			Labels: with(a.want.labels, map[string]string{docker.LabelComposeNetwork: "default"}),
			IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet}}},
		})
		if err != nil && docker.IsSubnetOverlap(err) {
			if err := subnets.Reject(ctx, a.st.Tenant, subnet); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return runtime.StepFailed(docker.Wrap(err, "create network %s", a.want.network), "Creating network %s failed", a.want.network)
		}
		a.rep.Changed(ctx, runtime.Change{Action: "created", Object: "network", Name: a.want.network, Detail: subnet})
		a.rep.Point("after-network")
		return nil
	}
	return runtime.StepFailed(errors.New("every subnet tried overlaps another network"), "Creating network %s failed", a.want.network)
}

// subnetTaken reports whether subnet overlaps a network this engine
// knows, of the swarm or of this node.
func (r *Runtime) subnetTaken(ctx context.Context, subnet string) (bool, error) {
	want, err := netip.ParsePrefix(subnet)
	if err != nil {
		return false, fmt.Errorf("subnet %q: %w", subnet, err)
	}
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return false, docker.Wrap(err, "list networks")
	}
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Overlaps(want) {
				return true, nil
			}
		}
	}
	return false, nil
}

// ensureVolumes creates the volumes that are missing, on this node: the
// local driver keeps a volume on the node that made it (README, "Past one
// host").
func (a *applyPass) ensureVolumes(ctx context.Context) error {
	for _, v := range a.want.volumes {
		if slices.Contains(a.have.volumes, v.Labels[docker.LabelComposeVolume]) {
			continue
		}
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if err := a.r.EnsureVolume(ctx, v); err != nil {
			return runtime.StepFailed(err, "Creating volume %s failed", v.Name)
		}
		a.rep.Changed(ctx, runtime.Change{Action: "created", Object: "volume", Name: v.Name})
		a.rep.Point("after-volume:" + v.Labels[docker.LabelComposeVolume])
	}
	return nil
}

// removeStale removes the services that are no longer in the stack, later
// ones first.
func (a *applyPass) removeStale(ctx context.Context) error {
	keep := map[string]bool{}
	for _, w := range a.want.services {
		keep[w.spec.Name] = true
	}
	var stale []swarm.Service
	for name, s := range a.have.services {
		if !keep[name] {
			stale = append(stale, s)
		}
	}
	slices.SortFunc(stale, func(x, y swarm.Service) int { return compareStrings(y.Spec.Name, x.Spec.Name) })
	for _, s := range stale {
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if err := a.r.removeService(ctx, s); err != nil {
			return err
		}
		delete(a.have.services, s.Spec.Name)
		a.rep.Changed(ctx, runtime.Change{Action: "removed", Object: "service", Name: s.Spec.Name,
			Detail: "no longer part of the stack", Released: s.Spec.Labels[LabelImage]})
	}
	return nil
}

// ensureService creates the service with n tasks, or updates the one
// there: a new spec replaces its tasks, a new count scales it.
func (a *applyPass) ensureService(ctx context.Context, w wanted, n int) error {
	spec := withReplicas(w.spec, n)
	cur, ok := a.have.services[w.spec.Name]
	if !ok {
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if _, err := a.r.cli.ServiceCreate(ctx, spec, types.ServiceCreateOptions{}); err != nil {
			return runtime.StepFailed(docker.Wrap(err, "create service %s", spec.Name), "Creating service %s failed", spec.Name)
		}
		a.rep.Changed(ctx, runtime.Change{Action: "created", Object: "service", Name: spec.Name, Detail: replicasText(n)})
		a.rep.Point("after-service:" + w.name)
		return nil
	}
	have := 0
	if m := cur.Spec.Mode.Replicated; m != nil && m.Replicas != nil {
		have = int(*m.Replicas)
	}
	changed := cur.Spec.Labels[docker.LabelConfigHash] != w.spec.Labels[docker.LabelConfigHash]
	if !changed && have == n {
		return nil
	}
	if err := a.begin(ctx, changed); err != nil {
		return err
	}
	if _, err := a.r.cli.ServiceUpdate(ctx, cur.ID, cur.Version, spec, types.ServiceUpdateOptions{}); err != nil {
		return runtime.StepFailed(docker.Wrap(err, "update service %s", spec.Name), "Updating service %s failed", spec.Name)
	}
	c := runtime.Change{Object: "service", Name: spec.Name, Detail: replicasText(n)}
	switch {
	case changed:
		c.Action = "replaced"
		c.Detail = "generation " + w.spec.Labels[docker.LabelGeneration] + ", " + c.Detail
		if old := cur.Spec.Labels[LabelImage]; old != w.image {
			c.Released = old
		}
	case n == 0:
		c.Action = "stopped"
	case have == 0:
		c.Action = "started"
	default:
		c.Action = "scaled"
	}
	a.rep.Changed(ctx, c)
	return nil
}

// waitService waits until the service has n tasks of its current spec
// running (healthy, where it has a check and a later service waits for
// it) and no other task running.
func (a *applyPass) waitService(ctx context.Context, w wanted, n int) error {
	ctx, cancel := context.WithTimeout(ctx, a.r.opts.Docker.HealthTimeout)
	defer cancel()
	hash := w.spec.Labels[docker.LabelConfigHash]
	var last string
	got := 0
	for {
		tasks, err := a.r.cli.TaskList(ctx, types.TaskListOptions{Filters: filterService(w.spec.Name)})
		if err == nil {
			ok, other := 0, 0
			for _, t := range tasks {
				if t.Status.State != swarm.TaskStateRunning && (w.waitHealthy || t.NodeID != a.r.node || !a.r.container(t).started) {
					if t.DesiredState == swarm.TaskStateRunning && t.Status.Err != "" {
						last = t.Status.Err
					}
					continue
				}
				if t.DesiredState == swarm.TaskStateRunning && t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.Labels[docker.LabelConfigHash] == hash {
					ok++
				} else {
					other++
				}
			}
			got = ok
			if ok == n && other == 0 && (n > 0 || !a.r.tasksLeft(ctx, w.spec.Name)) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			why := fmt.Sprintf("%d of %d tasks running", got, n)
			if last != "" {
				why += ": " + last
			}
			return runtime.StepFailed(fmt.Errorf("%s: %w", why, ctx.Err()), "Service %s did not reach %s within %s", w.spec.Name, replicasText(n), a.r.opts.Docker.HealthTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tasksLeft reports whether a service scaled to zero still has a
// container running: a stopped tenant's data is at rest only once none does.
func (r *Runtime) tasksLeft(ctx context.Context, service string) bool {
	cs, err := r.ListContainers(ctx, map[string]string{"com.docker.swarm.service.name": service}, false)
	return err != nil || len(cs) > 0
}

func replicasText(n int) string {
	if n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// filterService selects the tasks of a service.
func filterService(name string) filters.Args { return filters.NewArgs(filters.Arg("service", name)) }
