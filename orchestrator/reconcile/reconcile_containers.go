package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// ensureContainers creates what is missing and, unless the tenant is
// passivated, starts what is not running. Starts go in waves: the start
// calls of a wave run at once, issued in dependency order, and a wave ends
// at a service that a later one needs healthy (depends_on with
// service_healthy), whose health is awaited before the next wave. A
// dependency on service_started only orders the calls: the engine's start
// takes hundreds of milliseconds, and starting one after the other would
// add them up, while a dependent that needs its dependency retries (as
// Compose asks of applications anyway).
func (p *pass) ensureContainers(ctx context.Context, st *stack.TenantStack, mode string) error {
	if err := p.createMissing(ctx, st); err != nil {
		return err
	}
	if mode == modePassivated {
		return nil
	}
	var wave []runtime.Container
	for _, svc := range st.Services {
		for _, spec := range svc.Containers {
			c := p.obs.containers[spec.Name]
			switch {
			case c.Paused:
				if mode == modeRunning {
					wave = append(wave, c)
				}
			case c.State == "created" || c.State == "exited" || c.State == "dead" || c.State == "":
				wave = append(wave, c)
			}
		}
		if svc.WaitHealthy && len(wave) > 0 {
			started, err := p.startWave(ctx, wave)
			if err != nil {
				return err
			}
			wave = nil
			var mine []runtime.Container
			for _, c := range started {
				if c.Labels[stack.LabelService] == svc.Name {
					mine = append(mine, c)
				}
			}
			if err := p.waitHealthy(ctx, mine); err != nil {
				return err
			}
		}
	}
	_, err := p.startWave(ctx, wave)
	return err
}

// createMissing creates the containers of the stack that do not exist, all
// at once.
func (p *pass) createMissing(ctx context.Context, st *stack.TenantStack) error {
	var missing []runtime.ContainerSpec
	for _, spec := range st.AllContainers() {
		if _, ok := p.obs.containers[spec.Name]; !ok {
			missing = append(missing, spec)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := p.begin(ctx, true); err != nil {
		return err
	}
	created := make([]runtime.Container, len(missing))
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	for i, spec := range missing {
		wg.Go(func() { created[i], errs[i] = p.create(ctx, spec) })
	}
	wg.Wait()
	// Events and failpoints in dependency order, from this goroutine.
	for i, spec := range missing {
		if errs[i] != nil {
			continue
		}
		p.obs.containers[spec.Name] = created[i]
		if !p.adopted[spec.Name] {
			p.event(ctx, domain.EventObject, "Created container %s", spec.Name)
			p.r.failpoint("after-container:" + replicaName(spec.Labels))
		}
	}
	return errors.Join(errs...)
}

// startWave starts (or resumes) containers at once and returns them; events
// and failpoints follow in the wave's order.
func (p *pass) startWave(ctx context.Context, wave []runtime.Container) ([]runtime.Container, error) {
	if len(wave) == 0 {
		return nil, nil
	}
	if err := p.begin(ctx, false); err != nil {
		return nil, err
	}
	errs := make([]error, len(wave))
	var wg sync.WaitGroup
	for i, c := range wave {
		wg.Go(func() {
			if c.Paused {
				errs[i] = stepFailed(p.r.rt.Unpause(ctx, c.ID), "Resuming container %s failed", c.Name)
				return
			}
			errs[i] = stepFailed(p.r.rt.Start(ctx, c.ID), "Starting container %s failed", c.Name)
		})
	}
	wg.Wait()
	for i, c := range wave {
		if errs[i] != nil {
			continue
		}
		switch {
		case c.Paused:
			p.event(ctx, domain.EventObject, "Resumed container %s", c.Name)
		case c.State == "exited" && (p.t.State == domain.StateRunning || p.t.State == domain.StatePaused):
			p.event(ctx, domain.EventObject, "Restarted %s after it died (exit code %d)", replicaName(c.Labels), c.ExitCode)
		default:
			p.event(ctx, domain.EventObject, "Started container %s", c.Name)
		}
		p.r.failpoint("after-start:" + replicaName(c.Labels))
	}
	return wave, errors.Join(errs...)
}

// create creates one container. The engine may answer that the name exists
// although the listing did not show it: that container is adopted if it is
// this tenant's with the same configuration, replaced if it is this
// tenant's with another, and refused if it is anyone else's.
func (p *pass) create(ctx context.Context, spec runtime.ContainerSpec) (runtime.Container, error) {
	for attempt := 0; ; attempt++ {
		id, adopted, err := p.r.rt.CreateContainer(ctx, spec)
		if err != nil {
			return runtime.Container{}, stepFailed(err, "Creating container %s failed", spec.Name)
		}
		if !adopted {
			return runtime.Container{ID: id, Name: spec.Name, State: "created", Labels: spec.Labels}, nil
		}
		c, err := p.r.rt.Inspect(ctx, id)
		if err != nil {
			return runtime.Container{}, stepFailed(err, "Inspecting container %s failed", spec.Name)
		}
		if c.Labels[stack.LabelTenant] != p.t.ID || c.Labels[stack.LabelInstance] != p.r.opts.InstanceID {
			return runtime.Container{}, stepFailed(fmt.Errorf("container %s belongs to tenant %q of instance %q", spec.Name, c.Labels[stack.LabelTenant], c.Labels[stack.LabelInstance]),
				"The name %s is taken by another deployment", spec.Name)
		}
		if c.Labels[stack.LabelConfigHash] == spec.Labels[stack.LabelConfigHash] || attempt > 0 {
			p.markAdopted(spec.Name)
			return c, nil
		}
		if err := p.r.rt.RemoveContainer(ctx, id); err != nil {
			return runtime.Container{}, stepFailed(err, "Removing container %s failed", spec.Name)
		}
	}
}

// waitHealthy waits until started containers report healthy (those without
// a health check count as soon as they run).
func (p *pass) waitHealthy(ctx context.Context, cs []runtime.Container) error {
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.ReadyTimeout)
	defer cancel()
	for _, c := range cs {
		if err := p.r.waitHealthy(ctx, c.ID); err != nil {
			return stepFailed(err, "%s did not become healthy", c.Name)
		}
	}
	return nil
}

// stopAll stops running containers, later services first.
func (p *pass) stopAll(ctx context.Context, st *stack.TenantStack) error {
	all := st.AllContainers()
	for i := len(all) - 1; i >= 0; i-- {
		c, ok := p.obs.containers[all[i].Name]
		if !ok || !(c.Running || c.Paused || c.State == "restarting") {
			continue
		}
		if err := p.begin(ctx, false); err != nil {
			return err
		}
		if c.Paused {
			// A frozen process cannot handle SIGTERM: thaw it first.
			if err := p.r.rt.Unpause(ctx, c.ID); err != nil {
				return stepFailed(err, "Resuming container %s failed", c.Name)
			}
		}
		if err := p.r.rt.Stop(ctx, c.ID, 0); err != nil {
			return stepFailed(err, "Stopping container %s failed", c.Name)
		}
		p.event(ctx, domain.EventObject, "Stopped container %s", c.Name)
	}
	return nil
}

// pauseAll freezes running containers, later services first.
func (p *pass) pauseAll(ctx context.Context, st *stack.TenantStack) error {
	all := st.AllContainers()
	for i := len(all) - 1; i >= 0; i-- {
		c, ok := p.obs.containers[all[i].Name]
		if !ok || c.Paused {
			continue
		}
		if err := p.begin(ctx, false); err != nil {
			return err
		}
		if err := p.r.rt.Pause(ctx, c.ID); err != nil {
			return stepFailed(err, "Pausing container %s failed", c.Name)
		}
		p.event(ctx, domain.EventObject, "Paused container %s", c.Name)
	}
	return nil
}
