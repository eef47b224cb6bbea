package docker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"appfactory/orchestrator/runtime"
)

// quiet is the Reporter of a caller that gave none.
type quiet struct{}

func (quiet) Begin(context.Context, bool) error       { return nil }
func (quiet) Changed(context.Context, runtime.Change) {}
func (quiet) Point(string)                            {}

// applyPass is one Apply: the desired objects, the actual ones, and what
// was said to the reporter.
type applyPass struct {
	r     *Runtime
	st    *runtime.Stack
	want  *objects
	have  *engineState
	rep   runtime.Reporter
	began bool

	mu sync.Mutex
	// adopted names containers found by name rather than created.
	adopted map[string]bool
}

func (a *applyPass) begin(ctx context.Context, creating bool) error {
	if a.began {
		return nil
	}
	a.began = true
	return a.rep.Begin(ctx, creating)
}

func (a *applyPass) changed(ctx context.Context, c runtime.Change) { a.rep.Changed(ctx, c) }

func (a *applyPass) markAdopted(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.adopted == nil {
		a.adopted = map[string]bool{}
	}
	a.adopted[name] = true
}

// Apply implements runtime.Runtime: network, volumes, stale containers
// removed, missing ones created, then started in waves, paused or stopped
// as the mode says.
func (r *Runtime) Apply(ctx context.Context, st *runtime.Stack, rep runtime.Reporter) (runtime.Observation, error) {
	if rep == nil {
		rep = quiet{}
	}
	want, err := r.expand(st)
	if err != nil {
		return runtime.Observation{}, err
	}
	have, err := r.listTenant(ctx, st.Tenant)
	if err != nil {
		return runtime.Observation{}, runtime.StepFailed(err, "Reading the deployment's containers failed")
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
	if err := a.ensureContainers(ctx); err != nil {
		return runtime.Observation{}, err
	}
	switch st.Mode {
	case runtime.ModeStopped:
		err = a.stopAll(ctx)
	case runtime.ModePaused:
		err = a.pauseAll(ctx)
	}
	if err != nil {
		return runtime.Observation{}, err
	}
	return r.observeAddressed(ctx, st.Tenant)
}

// removeStale removes containers that are not in the stack, whose
// configuration or generation changed, or that are dead: removed ones are
// created again afresh. Later services go first, so a service never loses
// what it depends on while it still runs.
func (a *applyPass) removeStale(ctx context.Context) error {
	desired := map[string]ContainerSpec{}
	rank := map[string]int{}
	for i, c := range a.want.all() {
		desired[c.Name] = c
		rank[c.Name] = i
	}
	type staleOne struct {
		c      Container
		reason string
	}
	var stale []staleOne
	for name, c := range a.have.containers {
		d, ok := desired[name]
		switch {
		case !ok:
			stale = append(stale, staleOne{c, "no longer part of the stack"})
		case c.Labels[LabelGeneration] != d.Labels[LabelGeneration]:
			stale = append(stale, staleOne{c, fmt.Sprintf("replaced by generation %s", d.Labels[LabelGeneration])})
		case c.Labels[LabelConfigHash] != d.Labels[LabelConfigHash]:
			stale = append(stale, staleOne{c, "its configuration changed"})
		case c.State == "dead":
			stale = append(stale, staleOne{c, "it is dead"})
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		ri, iok := rank[stale[i].c.Name]
		rj, jok := rank[stale[j].c.Name]
		if iok != jok {
			return !iok // containers not in the stack first
		}
		if iok {
			return ri > rj
		}
		return stale[i].c.Name < stale[j].c.Name
	})
	for _, s := range stale {
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		a.rep.Point("before-remove-container:" + ReplicaName(s.c.Labels))
		if err := a.r.RemoveContainer(ctx, s.c.ID); err != nil {
			return runtime.StepFailed(err, "Removing container %s failed", s.c.Name)
		}
		delete(a.have.containers, s.c.Name)
		a.changed(ctx, runtime.Change{Action: "removed", Object: "container", Name: s.c.Name,
			Replica: ReplicaName(s.c.Labels), Detail: s.reason, Released: s.c.Image})
	}
	return nil
}

// ensureNetwork creates the tenant network on its subnet; a subnet the
// engine refuses (a network appfactory did not make overlaps it) is set
// aside and another one claimed. Networks of the tenant under another name
// are removed.
func (a *applyPass) ensureNetwork(ctx context.Context) error {
	var have bool
	for _, n := range a.have.networks {
		if n.Name == a.want.network.Name {
			have = true
			continue
		}
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if err := a.r.RemoveNetwork(ctx, n.ID); err != nil {
			return runtime.StepFailed(err, "Removing the old network %s failed", n.Name)
		}
		a.changed(ctx, runtime.Change{Action: "removed", Object: "network", Name: n.Name, Detail: "no longer the tenant's network"})
	}
	if have {
		return nil
	}
	if err := a.begin(ctx, true); err != nil {
		return err
	}
	if a.r.opts.Subnets == nil {
		return runtime.StepFailed(errors.New("the runtime has no subnets to give"), "Creating network %s failed", a.want.network.Name)
	}
	for range 8 {
		subnet, err := a.r.opts.Subnets.Claim(ctx, a.st.Tenant)
		if err != nil {
			return runtime.StepFailed(err, "No network address range is free")
		}
		spec := a.want.network
		spec.Subnet = subnet
		_, err = a.r.EnsureNetwork(ctx, spec)
		if errors.Is(err, ErrSubnetOverlap) {
			if err := a.r.opts.Subnets.Reject(ctx, a.st.Tenant, subnet); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return runtime.StepFailed(err, "Creating network %s failed", spec.Name)
		}
		a.changed(ctx, runtime.Change{Action: "created", Object: "network", Name: spec.Name, Detail: subnet})
		a.rep.Point("after-network")
		return nil
	}
	return runtime.StepFailed(errors.New("every subnet tried overlaps another network"), "Creating network %s failed", a.want.network.Name)
}

// ensureVolumes creates the named volumes that are missing. Volumes no
// longer in the stack are kept: they hold data.
func (a *applyPass) ensureVolumes(ctx context.Context) error {
	for _, v := range a.want.volumes {
		if _, ok := a.have.volumes[v.Name]; ok {
			continue
		}
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if err := a.r.EnsureVolume(ctx, v); err != nil {
			return runtime.StepFailed(err, "Creating volume %s failed", v.Name)
		}
		a.have.volumes[v.Name] = Volume{Name: v.Name, Labels: v.Labels}
		a.changed(ctx, runtime.Change{Action: "created", Object: "volume", Name: v.Name})
		a.rep.Point("after-volume:" + v.Labels[LabelComposeVolume])
	}
	return nil
}
