package docker

import (
	"context"
	"fmt"
	"sort"
	"time"

	"appfactory/orchestrator/runtime"
)

// Remove implements runtime.Runtime: containers, then volumes (the
// tenant's data), then the network. Each step is idempotent, so a call cut
// short is finished by the next one.
func (r *Runtime) Remove(ctx context.Context, tenant string, rep runtime.Reporter) error {
	if rep == nil {
		rep = quiet{}
	}
	have, err := r.listTenant(ctx, tenant)
	if err != nil {
		return runtime.StepFailed(err, "Reading the deployment's containers failed")
	}
	if len(have.containers) == 0 && len(have.volumes) == 0 && len(have.networks) == 0 {
		return nil
	}
	if err := rep.Begin(ctx, true); err != nil {
		return err
	}
	names := sortedKeys(have.containers)
	// Later replicas and services last created go first; the order only
	// matters for what a dying stack logs.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, name := range names {
		c := have.containers[name]
		rep.Point("before-remove-container:" + ReplicaName(c.Labels))
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			return runtime.StepFailed(err, "Removing container %s failed", c.Name)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "container", Name: c.Name, Replica: ReplicaName(c.Labels), Released: c.Image})
	}
	if len(have.volumes) > 0 {
		rep.Point("before-remove-volume")
	}
	for _, name := range sortedKeys(have.volumes) {
		if err := r.RemoveVolume(ctx, name); err != nil {
			return runtime.StepFailed(err, "Removing volume %s failed", name)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "volume", Name: name})
	}
	if len(have.networks) > 0 {
		rep.Point("before-remove-network")
	}
	for _, n := range have.networks {
		if err := r.RemoveNetwork(ctx, n.ID); err != nil {
			return runtime.StepFailed(err, "Removing network %s failed", n.Name)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "network", Name: n.Name})
	}
	return nil
}

// addressPoll is how often a running container without an address yet is
// inspected again.
const addressPoll = 20 * time.Millisecond

// observeAddressed observes a tenant once its running and paused replicas
// show their address. A container that has just been started (or whose
// start the engine is still completing after appfactory itself was
// killed) may not have one yet: it is inspected again while it runs, for
// at most the health timeout.
func (r *Runtime) observeAddressed(ctx context.Context, tenant string) (runtime.Observation, error) {
	o, err := r.Observe(ctx, tenant)
	if err != nil {
		return o, runtime.StepFailed(err, "Reading the deployment's containers failed")
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.HealthTimeout)
	defer cancel()
	for i := range o.Replicas {
		rp := &o.Replicas[i]
		for rp.Address == "" && (rp.Running || rp.Paused || rp.State == "restarting") {
			if err := sleepCtx(ctx, addressPoll); err != nil {
				return o, runtime.StepFailed(fmt.Errorf("no address: %w", err), "Replica %s has no address on its network", rp.Name)
			}
			c, err := r.Inspect(ctx, rp.ID)
			if err != nil {
				return o, runtime.StepFailed(err, "Inspecting replica %s failed", rp.Name)
			}
			*rp = replicaOf(r.opts.Instance, c)
		}
	}
	return o, nil
}

// sortedKeys returns map keys sorted (for stable changes and logs).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
