package swarm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/runtime"
)

// Remove implements runtime.Runtime: the services (later ones first),
// then, once the engine has removed their tasks' containers, the volumes
// and the network.
func (r *Runtime) Remove(ctx context.Context, tenant string, rep runtime.Reporter) error {
	if rep == nil {
		rep = quiet{}
	}
	st, err := r.listTenant(ctx, tenant)
	if err != nil {
		return runtime.StepFailed(err, "Reading the deployment's services failed")
	}
	began := false
	begin := func() error {
		if began {
			return nil
		}
		began = true
		return rep.Begin(ctx, true)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range st.services {
			if !yield(n) {
				return
			}
		}
	})
	slices.Reverse(names)
	for _, name := range names {
		if err := begin(); err != nil {
			return err
		}
		s := st.services[name]
		if err := r.removeService(ctx, s); err != nil {
			return err
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "service", Name: name, Released: s.Spec.Labels[LabelImage]})
	}
	if err := r.waitContainersGone(ctx, tenant); err != nil {
		return err
	}
	vols, err := r.ListVolumes(ctx, map[string]string{docker.LabelTenant: tenant, docker.LabelInstance: r.instance()})
	if err != nil {
		return runtime.StepFailed(err, "Reading the deployment's volumes failed")
	}
	for _, v := range vols {
		if err := begin(); err != nil {
			return err
		}
		rep.Point("before-remove-volume")
		if err := r.RemoveVolume(ctx, v.Name); err != nil {
			return runtime.StepFailed(err, "Removing volume %s failed", v.Name)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "volume", Name: v.Name})
	}
	for _, n := range st.networks {
		if err := begin(); err != nil {
			return err
		}
		if err := r.removeNetwork(ctx, n.ID); err != nil {
			return runtime.StepFailed(err, "Removing network %s failed", n.Name)
		}
		rep.Changed(ctx, runtime.Change{Action: "removed", Object: "network", Name: n.Name})
	}
	return nil
}

// removeService removes a swarm service; one already gone is not an error.
func (r *Runtime) removeService(ctx context.Context, s swarm.Service) error {
	err := r.cli.ServiceRemove(ctx, s.ID)
	if err = docker.Wrap(err, "remove service %s", s.Spec.Name); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return runtime.StepFailed(err, "Removing service %s failed", s.Spec.Name)
	}
	return nil
}

// waitContainersGone waits until no container of the tenant's tasks is
// left: the engine removes them after the service, and a volume in use
// cannot be removed.
func (r *Runtime) waitContainersGone(ctx context.Context, tenant string) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Docker.HealthTimeout)
	defer cancel()
	for {
		cs, err := r.ListContainers(ctx, map[string]string{docker.LabelTenant: tenant, docker.LabelInstance: r.instance()}, true)
		if err == nil && len(cs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return runtime.StepFailed(fmt.Errorf("%d containers left: %w", len(cs), ctx.Err()), "The deployment's tasks were not removed within %s", r.opts.Docker.HealthTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// removeNetwork removes an overlay network, again while the engine still
// detaches the removed tasks from it.
func (r *Runtime) removeNetwork(ctx context.Context, id string) error {
	var err error
	for range 50 {
		if err = r.RemoveNetwork(ctx, id); err == nil || errors.Is(err, runtime.ErrNotFound) {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}
