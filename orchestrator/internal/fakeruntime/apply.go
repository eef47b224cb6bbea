package fakeruntime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strconv"

	"appfactory/orchestrator/runtime"
)

// applyPass is one Apply, in the Docker adapter's order: network,
// volumes, stale replicas removed, missing ones created, started in
// waves, then paused or stopped as the mode says.
type applyPass struct {
	f     *Runtime
	st    *runtime.Stack
	rep   runtime.Reporter
	began bool
	// order is the replicas of the stack in dependency order.
	order []wanted
}

// wanted is one replica of the stack.
type wanted struct {
	name    string
	number  int
	service runtime.Service
}

// Apply implements runtime.Runtime.
func (f *Runtime) Apply(ctx context.Context, st *runtime.Stack, rep runtime.Reporter) (runtime.Observation, error) {
	if rep == nil {
		rep = quiet{}
	}
	if st.Tenant == "" || st.Slug == "" {
		return runtime.Observation{}, errors.New("fakeruntime: a stack needs its tenant id and slug")
	}
	if err := f.check("apply"); err != nil {
		return runtime.Observation{}, runtime.StepFailed(err, "Reading the deployment's containers failed")
	}
	a := &applyPass{f: f, st: st, rep: rep}
	for _, s := range st.Services {
		for n := 1; n <= s.Replicas; n++ {
			a.order = append(a.order, wanted{name: s.Name + "-" + strconv.Itoa(n), number: n, service: s})
		}
	}
	f.Mu.Lock()
	f.tenantLocked(st.Tenant, st.Slug).slug = st.Slug
	f.Mu.Unlock()
	for _, phase := range []func(context.Context) error{a.ensureNetwork, a.ensureVolumes, a.removeStale, a.createMissing, a.startAll, a.settle} {
		if err := phase(ctx); err != nil {
			return runtime.Observation{}, err
		}
	}
	return f.observe(st.Tenant), nil
}

func (a *applyPass) begin(ctx context.Context, creating bool) error {
	if a.began {
		return nil
	}
	a.began = true
	return a.rep.Begin(ctx, creating)
}

// name is the fake's engine name of an object of the tenant.
func (a *applyPass) name(object string) string { return a.st.Slug + "-" + object }

// snapshot copies the tenant's objects.
func (a *applyPass) snapshot() (network bool, volumes map[string]bool, replicas map[string]Replica) {
	a.f.Mu.Lock()
	defer a.f.Mu.Unlock()
	t := a.f.tenantLocked(a.st.Tenant, a.st.Slug)
	replicas = map[string]Replica{}
	for name, rp := range t.replicas {
		replicas[name] = *rp
	}
	return t.network, maps.Clone(t.volumes), replicas
}

func (a *applyPass) ensureNetwork(ctx context.Context) error {
	if have, _, _ := a.snapshot(); have {
		return nil
	}
	if err := a.begin(ctx, true); err != nil {
		return err
	}
	if err := a.f.step(a.st.Tenant, "create-network", "", func(t *tenant) error { t.network = true; return nil }); err != nil {
		return runtime.StepFailed(err, "Creating network %s failed", a.st.Slug)
	}
	a.rep.Changed(ctx, runtime.Change{Action: "created", Object: "network", Name: a.st.Slug})
	a.rep.Point("after-network")
	return nil
}

// ensureVolumes creates the volumes that are missing; volumes no longer
// in the stack are kept (they hold data).
func (a *applyPass) ensureVolumes(ctx context.Context) error {
	_, have, _ := a.snapshot()
	for _, v := range a.st.Volumes {
		if have[v] {
			continue
		}
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		if err := a.f.step(a.st.Tenant, "create-volume", v, func(t *tenant) error { t.volumes[v] = true; return nil }); err != nil {
			return runtime.StepFailed(err, "Creating volume %s failed", a.name(v))
		}
		a.rep.Changed(ctx, runtime.Change{Action: "created", Object: "volume", Name: a.name(v)})
		a.rep.Point("after-volume:" + v)
	}
	return nil
}

// config is what a replica is made from: a replica whose config differs
// from the stack's is replaced.
func config(s runtime.Service) runtime.Service {
	s.Replicas, s.WaitHealthy = 0, false
	return s
}

type staleReplica struct {
	name, reason, image string
	rank                int // in the stack's order; -1 when no longer in it
}

// removeStale removes replicas not in the stack, of another generation,
// of another configuration, or dead: not in the stack first, then later
// services first.
func (a *applyPass) removeStale(ctx context.Context) error {
	_, _, have := a.snapshot()
	rank := map[string]int{}
	for i, w := range a.order {
		rank[w.name] = i
	}
	var stale []staleReplica
	for name, rp := range have {
		i, ok := rank[name]
		s := staleReplica{name: name, image: rp.Image, rank: -1}
		switch {
		case !ok:
			s.reason = "no longer part of the stack"
		case rp.Generation != a.st.Generation:
			s.rank, s.reason = i, fmt.Sprintf("replaced by generation %d", a.st.Generation)
		case !reflect.DeepEqual(config(rp.Spec), config(a.order[i].service)) || !maps.Equal(rp.Labels, a.st.Labels) || rp.slug != a.st.Slug:
			s.rank, s.reason = i, "its configuration changed"
		case rp.State == "dead":
			s.rank, s.reason = i, "it is dead"
		default:
			continue
		}
		stale = append(stale, s)
	}
	sort.Slice(stale, func(i, j int) bool {
		if (stale[i].rank < 0) != (stale[j].rank < 0) {
			return stale[i].rank < 0
		}
		if stale[i].rank < 0 {
			return stale[i].name < stale[j].name
		}
		return stale[i].rank > stale[j].rank
	})
	for _, s := range stale {
		if err := a.begin(ctx, true); err != nil {
			return err
		}
		a.rep.Point("before-remove-container:" + s.name)
		if err := a.f.step(a.st.Tenant, "remove-container", s.name, func(t *tenant) error { delete(t.replicas, s.name); return nil }); err != nil {
			return runtime.StepFailed(err, "Removing container %s failed", a.name(s.name))
		}
		a.rep.Changed(ctx, runtime.Change{Action: "removed", Object: "container", Name: a.name(s.name), Replica: s.name, Detail: s.reason, Released: s.image})
	}
	return nil
}

// createMissing creates the replicas that do not exist, then reports them
// in dependency order (the adapter creates them at once).
func (a *applyPass) createMissing(ctx context.Context) error {
	_, _, have := a.snapshot()
	var missing []wanted
	for _, w := range a.order {
		if _, ok := have[w.name]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := a.begin(ctx, true); err != nil {
		return err
	}
	errs := make([]error, len(missing))
	for i, w := range missing {
		errs[i] = a.f.step(a.st.Tenant, "create", w.name, func(t *tenant) error {
			a.f.nextID++
			t.replicas[w.name] = &Replica{
				Replica: runtime.Replica{ID: fmt.Sprintf("r%d", a.f.nextID), Name: w.name, Service: w.service.Name, Number: w.number,
					Generation: a.st.Generation, Image: w.service.Image, State: "created"},
				Spec: w.service, Labels: maps.Clone(a.st.Labels), slug: a.st.Slug,
			}
			return nil
		})
		errs[i] = runtime.StepFailed(errs[i], "Creating container %s failed", a.name(w.name))
	}
	for i, w := range missing {
		if errs[i] == nil {
			a.rep.Changed(ctx, runtime.Change{Action: "created", Object: "container", Name: a.name(w.name), Replica: w.name})
			a.rep.Point("after-container:" + w.name)
		}
	}
	return errors.Join(errs...)
}
