package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"appfactory/orchestrator/runtime"
)

// ensureContainers creates what is missing and, unless the stack is
// stopped, starts what is not running. Starts go in waves: the start calls
// of a wave run at once, issued in dependency order, and a wave ends at a
// service that a later one needs healthy (depends_on with service_healthy),
// whose health is awaited before the next wave. A dependency on
// service_started only orders the calls: the engine's start takes hundreds
// of milliseconds, and starting one after the other would add them up,
// while a dependent that needs its dependency retries (as Compose asks of
// applications anyway).
func (a *applyPass) ensureContainers(ctx context.Context) error {
	if err := a.createMissing(ctx); err != nil {
		return err
	}
	if a.st.Mode == runtime.ModeStopped {
		return nil
	}
	var wave []Container
	for _, svc := range a.want.services {
		for _, spec := range svc.containers {
			c := a.have.containers[spec.Name]
			switch {
			case c.Paused:
				if a.st.Mode == runtime.ModeRunning {
					wave = append(wave, c)
				}
			case c.State == "created" || c.State == "exited" || c.State == "dead" || c.State == "":
				wave = append(wave, c)
			}
		}
		if svc.waitHealthy && len(wave) > 0 {
			started, err := a.startWave(ctx, wave)
			if err != nil {
				return err
			}
			wave = nil
			var mine []Container
			for _, c := range started {
				if c.Labels[LabelService] == svc.name {
					mine = append(mine, c)
				}
			}
			if err := a.waitHealthy(ctx, mine); err != nil {
				return err
			}
		}
	}
	_, err := a.startWave(ctx, wave)
	return err
}

// createMissing creates the containers of the stack that do not exist, all
// at once.
func (a *applyPass) createMissing(ctx context.Context) error {
	var missing []ContainerSpec
	for _, spec := range a.want.all() {
		if _, ok := a.have.containers[spec.Name]; !ok {
			missing = append(missing, spec)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := a.begin(ctx, true); err != nil {
		return err
	}
	created := make([]Container, len(missing))
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	for i, spec := range missing {
		wg.Go(func() { created[i], errs[i] = a.create(ctx, spec) })
	}
	wg.Wait()
	// Changes and points in dependency order, from this goroutine.
	for i, spec := range missing {
		if errs[i] != nil {
			continue
		}
		a.have.containers[spec.Name] = created[i]
		if !a.adopted[spec.Name] {
			a.changed(ctx, runtime.Change{Action: "created", Object: "container", Name: spec.Name, Replica: ReplicaName(spec.Labels)})
			a.rep.Point("after-container:" + ReplicaName(spec.Labels))
		}
	}
	return errors.Join(errs...)
}

// startWave starts (or resumes) containers at once and returns them;
// changes and points follow in the wave's order.
func (a *applyPass) startWave(ctx context.Context, wave []Container) ([]Container, error) {
	if len(wave) == 0 {
		return nil, nil
	}
	if err := a.begin(ctx, false); err != nil {
		return nil, err
	}
	errs := make([]error, len(wave))
	var wg sync.WaitGroup
	for i, c := range wave {
		wg.Go(func() {
			if c.Paused {
				errs[i] = runtime.StepFailed(a.r.Unpause(ctx, c.ID), "Resuming container %s failed", c.Name)
				return
			}
			errs[i] = runtime.StepFailed(a.r.Start(ctx, c.ID), "Starting container %s failed", c.Name)
		})
	}
	wg.Wait()
	for i, c := range wave {
		if errs[i] != nil {
			continue
		}
		ch := runtime.Change{Action: "started", Object: "container", Name: c.Name, Replica: ReplicaName(c.Labels)}
		if c.Paused {
			ch.Action = "resumed"
		} else if c.State == "exited" {
			ch.Exited, ch.ExitCode = true, c.ExitCode
		}
		a.changed(ctx, ch)
		a.rep.Point("after-start:" + ReplicaName(c.Labels))
	}
	return wave, errors.Join(errs...)
}

// create creates one container. The engine may answer that the name exists
// although the listing did not show it: that container is adopted if it is
// this tenant's with the same configuration, replaced if it is this
// tenant's with another, and refused if it is anyone else's.
func (a *applyPass) create(ctx context.Context, spec ContainerSpec) (Container, error) {
	for attempt := 0; ; attempt++ {
		id, adopted, err := a.r.CreateContainer(ctx, spec)
		if err != nil {
			return Container{}, runtime.StepFailed(err, "Creating container %s failed", spec.Name)
		}
		if !adopted {
			return Container{ID: id, Name: spec.Name, State: "created", Labels: spec.Labels, Image: spec.Image}, nil
		}
		c, err := a.r.Inspect(ctx, id)
		if err != nil {
			return Container{}, runtime.StepFailed(err, "Inspecting container %s failed", spec.Name)
		}
		if c.Labels[LabelTenant] != a.st.Tenant || c.Labels[LabelInstance] != a.r.opts.Instance {
			return Container{}, runtime.StepFailed(fmt.Errorf("container %s belongs to tenant %q of instance %q", spec.Name, c.Labels[LabelTenant], c.Labels[LabelInstance]),
				"The name %s is taken by another deployment", spec.Name)
		}
		if c.Labels[LabelConfigHash] == spec.Labels[LabelConfigHash] || attempt > 0 {
			a.markAdopted(spec.Name)
			return c, nil
		}
		if err := a.r.RemoveContainer(ctx, id); err != nil {
			return Container{}, runtime.StepFailed(err, "Removing container %s failed", spec.Name)
		}
	}
}

// healthPoll is how often a starting container's health is read.
const healthPoll = 50 * time.Millisecond

// waitHealthy waits until started containers report healthy (those without
// a health check count as soon as they run).
func (a *applyPass) waitHealthy(ctx context.Context, cs []Container) error {
	ctx, cancel := context.WithTimeout(ctx, a.r.opts.HealthTimeout)
	defer cancel()
	for _, c := range cs {
		if err := a.r.waitHealthy(ctx, c.ID); err != nil {
			return runtime.StepFailed(err, "%s did not become healthy", c.Name)
		}
	}
	return nil
}

// waitHealthy waits until a container reports healthy; one without a
// health check counts as soon as it runs. A container that exits fails.
func (r *Runtime) waitHealthy(ctx context.Context, id string) error {
	for {
		c, err := r.Inspect(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case c.Running && (c.Health == "" || c.Health == "healthy"):
			return nil
		case !c.Running && slices.Contains([]string{"exited", "dead"}, c.State):
			return fmt.Errorf("it exited with code %d", c.ExitCode)
		}
		if err := sleepCtx(ctx, healthPoll); err != nil {
			return fmt.Errorf("still %q: %w", c.Health, err)
		}
	}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stopAll stops running containers, later services first.
func (a *applyPass) stopAll(ctx context.Context) error {
	all := a.want.all()
	for i := len(all) - 1; i >= 0; i-- {
		c, ok := a.have.containers[all[i].Name]
		if !ok || !(c.Running || c.Paused || c.State == "restarting") {
			continue
		}
		if err := a.begin(ctx, false); err != nil {
			return err
		}
		if c.Paused {
			// A frozen process cannot handle SIGTERM: thaw it first.
			if err := a.r.Unpause(ctx, c.ID); err != nil {
				return runtime.StepFailed(err, "Resuming container %s failed", c.Name)
			}
		}
		if err := a.r.Stop(ctx, c.ID, 0); err != nil {
			return runtime.StepFailed(err, "Stopping container %s failed", c.Name)
		}
		a.changed(ctx, runtime.Change{Action: "stopped", Object: "container", Name: c.Name, Replica: ReplicaName(c.Labels)})
	}
	return nil
}

// pauseAll freezes running containers, later services first.
func (a *applyPass) pauseAll(ctx context.Context) error {
	all := a.want.all()
	for i := len(all) - 1; i >= 0; i-- {
		c, ok := a.have.containers[all[i].Name]
		if !ok || c.Paused {
			continue
		}
		if err := a.begin(ctx, false); err != nil {
			return err
		}
		if err := a.r.Pause(ctx, c.ID); err != nil {
			return runtime.StepFailed(err, "Pausing container %s failed", c.Name)
		}
		a.changed(ctx, runtime.Change{Action: "paused", Object: "container", Name: c.Name, Replica: ReplicaName(c.Labels)})
	}
	return nil
}
