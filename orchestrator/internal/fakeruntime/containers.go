package fakeruntime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"appfactory/orchestrator/runtime"
)

// step makes one change to a tenant's objects under the lock: it is
// logged as "<op> <slug>[/<object>]" and fails when Fail says so, or when
// fn does.
func (f *Runtime) step(tenantID, op, object string, fn func(t *tenant) error) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	t := f.tenants[tenantID]
	if t == nil {
		return fmt.Errorf("tenant %s: %w", tenantID, runtime.ErrNotFound)
	}
	if object == "" {
		f.logLocked("%s %s", op, t.slug)
	} else {
		f.logLocked("%s %s/%s", op, t.slug, object)
	}
	if err := f.failLocked(op, object); err != nil {
		return err
	}
	if fn == nil {
		return nil
	}
	return fn(t)
}

// replicaStep is a step on one replica, which must exist.
func (f *Runtime) replicaStep(tenantID, op, name string, fn func(rp *Replica) error) error {
	return f.step(tenantID, op, name, func(t *tenant) error {
		rp := t.replicas[name]
		if rp == nil {
			return fmt.Errorf("replica %s: %w", name, runtime.ErrNotFound)
		}
		return fn(rp)
	})
}

// tenantLocked returns a tenant's objects, made empty if it has none yet;
// f.Mu is held.
func (f *Runtime) tenantLocked(id, slug string) *tenant {
	t := f.tenants[id]
	if t == nil {
		t = &tenant{id: id, slug: slug, volumes: map[string]bool{}, replicas: map[string]*Replica{}}
		f.tenants[id] = t
	}
	return t
}

// startLocked starts (or thaws) a replica; f.Mu is held.
func (f *Runtime) startLocked(t *tenant, rp *Replica) {
	if !rp.Paused {
		rp.StartedAt = time.Now()
		rp.ExitCode = 0
		if rp.Spec.Healthcheck != nil && !slices.Equal(rp.Spec.Healthcheck.Test, []string{"NONE"}) {
			rp.Health = "healthy"
		}
	}
	rp.State, rp.Running, rp.Paused = "running", true, false
	if rp.Address != "" {
		return
	}
	if f.Address != nil {
		rp.Address = f.Address(t.id, rp.Name)
		return
	}
	f.addrs++
	n := f.addrs
	rp.Address = fmt.Sprintf("10.99.%d.%d", n/250%256, n%250+2)
}

// stopLocked stops a replica as a graceful stop does; f.Mu is held.
func stopLocked(rp *Replica) {
	rp.State, rp.Running, rp.Paused, rp.ExitCode, rp.Address, rp.Health = "exited", false, false, 0, "", ""
}

// observationLocked is what Observe shows of a tenant; f.Mu is held.
func (t *tenant) observationLocked() runtime.Observation {
	o := runtime.Observation{Tenant: t.id, Network: t.network}
	o.Volumes = slices.Sorted(maps.Keys(t.volumes))
	for _, rp := range t.replicas {
		o.Replicas = append(o.Replicas, rp.Replica)
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

// observe is Observe without the injected failure.
func (f *Runtime) observe(id string) runtime.Observation {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if t := f.tenants[id]; t != nil {
		return t.observationLocked()
	}
	return runtime.Observation{Tenant: id}
}

// Observe implements runtime.Runtime.
func (f *Runtime) Observe(_ context.Context, tenantID string) (runtime.Observation, error) {
	if err := f.check("observe"); err != nil {
		return runtime.Observation{}, err
	}
	return f.observe(tenantID), nil
}

// Tenants implements runtime.Runtime: every tenant with objects, by id.
func (f *Runtime) Tenants(context.Context) ([]runtime.Observation, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.failLocked("tenants", ""); err != nil {
		return nil, err
	}
	var out []runtime.Observation
	for _, id := range slices.Sorted(maps.Keys(f.tenants)) {
		if o := f.tenants[id].observationLocked(); !o.Empty() {
			out = append(out, o)
		}
	}
	return out, nil
}

// Resume implements runtime.Runtime: every paused replica is thawed.
func (f *Runtime) Resume(_ context.Context, tenantID string) error {
	if err := f.check("resume"); err != nil {
		return err
	}
	var errs []error
	for _, rp := range f.observe(tenantID).Replicas {
		if !rp.Paused {
			continue
		}
		err := f.replicaStep(tenantID, "unpause", rp.Name, func(r *Replica) error {
			f.startLocked(f.tenants[tenantID], r)
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("resume %s: %w", rp.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Remove implements runtime.Runtime: replicas (the last first), then
// volumes, then the network, with the Docker adapter's changes and points.
func (f *Runtime) Remove(ctx context.Context, tenantID string, rep runtime.Reporter) error {
	if rep == nil {
		rep = quiet{}
	}
	if err := f.check("remove"); err != nil {
		return runtime.StepFailed(err, "Reading the deployment's containers failed")
	}
	o := f.observe(tenantID)
	if o.Empty() {
		return nil
	}
	slug := f.slug(tenantID)
	if err := rep.Begin(ctx, true); err != nil {
		return err
	}
	names := make([]string, 0, len(o.Replicas))
	images := map[string]string{}
	for _, rp := range o.Replicas {
		names = append(names, rp.Name)
		images[rp.Name] = rp.Image
	}
	slices.Sort(names)
	slices.Reverse(names)
	for _, name := range names {
		rep.Point("before-remove-container:" + name)
		if err := f.step(tenantID, "remove-container", name, func(t *tenant) error { delete(t.replicas, name); return nil }); err != nil {
			return runtime.StepFailed(err, "Removing container %s failed", slug+"-"+name)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "container", Name: slug + "-" + name, Replica: name, Released: images[name]})
	}
	if len(o.Volumes) > 0 {
		rep.Point("before-remove-volume")
	}
	for _, v := range o.Volumes {
		if err := f.step(tenantID, "remove-volume", v, func(t *tenant) error { delete(t.volumes, v); delete(t.files, v); delete(t.roots, v); return nil }); err != nil {
			return runtime.StepFailed(err, "Removing volume %s failed", slug+"-"+v)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "volume", Name: slug + "-" + v})
	}
	if o.Network {
		rep.Point("before-remove-network")
		if err := f.step(tenantID, "remove-network", "", func(t *tenant) error { t.network = false; return nil }); err != nil {
			return runtime.StepFailed(err, "Removing network %s failed", slug)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "network", Name: slug})
	}
	f.Mu.Lock()
	delete(f.tenants, tenantID)
	f.Mu.Unlock()
	return nil
}

// slug is a tenant's slug, the fake's prefix of its object names.
func (f *Runtime) slug(tenantID string) string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if t := f.tenants[tenantID]; t != nil {
		return t.slug
	}
	return tenantID
}
