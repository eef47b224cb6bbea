package fakeruntime

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"appfactory/orchestrator/runtime"
)

// startAll starts what is not running, unless the stack is stopped, in
// the adapter's waves: a wave ends at a service a later one needs healthy
// (the fake's replicas are healthy once they run).
func (a *applyPass) startAll(ctx context.Context) error {
	if a.st.Mode == runtime.ModeStopped {
		return nil
	}
	_, _, have := a.snapshot()
	var wave []Replica
	for _, s := range a.st.Services {
		for _, w := range a.order {
			rp, ok := have[w.name]
			if !ok || w.service.Name != s.Name {
				continue
			}
			switch {
			case rp.Paused:
				if a.st.Mode == runtime.ModeRunning {
					wave = append(wave, rp)
				}
			case slices.Contains([]string{"created", "exited", "dead", ""}, rp.State):
				wave = append(wave, rp)
			}
		}
		if s.WaitHealthy && len(wave) > 0 {
			if err := a.startWave(ctx, wave); err != nil {
				return err
			}
			wave = nil
		}
	}
	return a.startWave(ctx, wave)
}

// startWave starts (or thaws) replicas, then reports them in order.
func (a *applyPass) startWave(ctx context.Context, wave []Replica) error {
	if len(wave) == 0 {
		return nil
	}
	if err := a.begin(ctx, false); err != nil {
		return err
	}
	errs := make([]error, len(wave))
	for i, rp := range wave {
		op, words := "start", "Starting"
		if rp.Paused {
			op, words = "unpause", "Resuming"
		}
		errs[i] = a.f.replicaStep(a.st.Tenant, op, rp.Name, func(r *Replica) error {
			a.f.startLocked(a.f.tenants[a.st.Tenant], r)
			return nil
		})
		errs[i] = runtime.StepFailed(errs[i], "%s container %s failed", words, a.name(rp.Name))
	}
	for i, rp := range wave {
		if errs[i] != nil {
			continue
		}
		ch := runtime.Change{Action: "started", Object: "container", Name: a.name(rp.Name), Replica: rp.Name}
		if rp.Paused {
			ch.Action = "resumed"
		} else if rp.State == "exited" {
			ch.Exited, ch.ExitCode = true, rp.ExitCode
		}
		a.rep.Changed(ctx, ch)
		a.rep.Point("after-start:" + rp.Name)
	}
	return errors.Join(errs...)
}

// settle stops or pauses the replicas, later services first, as the mode says.
func (a *applyPass) settle(ctx context.Context) error {
	if a.st.Mode != runtime.ModeStopped && a.st.Mode != runtime.ModePaused {
		return nil
	}
	_, _, have := a.snapshot()
	for i := len(a.order) - 1; i >= 0; i-- {
		rp, ok := have[a.order[i].name]
		if !ok {
			continue
		}
		var err error
		if a.st.Mode == runtime.ModeStopped {
			err = a.stop(ctx, rp)
		} else {
			err = a.pause(ctx, rp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// stop stops a running, paused or restarting replica; StopGate holds it.
func (a *applyPass) stop(ctx context.Context, rp Replica) error {
	if !rp.Running && !rp.Paused && rp.State != "restarting" {
		return nil
	}
	if err := a.begin(ctx, false); err != nil {
		return err
	}
	a.f.Mu.Lock()
	gate := a.f.StopGate
	if gate != nil {
		a.f.StopsAtGate++
	}
	a.f.Mu.Unlock()
	if gate != nil {
		<-gate
	}
	if err := a.f.replicaStep(a.st.Tenant, "stop", rp.Name, func(r *Replica) error { stopLocked(r); return nil }); err != nil {
		return runtime.StepFailed(err, "Stopping container %s failed", a.name(rp.Name))
	}
	a.rep.Changed(ctx, runtime.Change{Action: "stopped", Object: "container", Name: a.name(rp.Name), Replica: rp.Name})
	return nil
}

// pause freezes a replica that is not paused; a runtime with NoPause fails.
func (a *applyPass) pause(ctx context.Context, rp Replica) error {
	if rp.Paused {
		return nil
	}
	if err := a.begin(ctx, false); err != nil {
		return err
	}
	err := a.f.replicaStep(a.st.Tenant, "pause", rp.Name, func(r *Replica) error {
		switch {
		case a.f.NoPause:
			return errors.New("this runtime cannot pause")
		case !r.Running:
			return fmt.Errorf("%s is %s: %w", r.Name, r.State, runtime.ErrConflict)
		}
		r.State, r.Running, r.Paused = "paused", false, true
		return nil
	})
	if err != nil {
		return runtime.StepFailed(err, "Pausing container %s failed", a.name(rp.Name))
	}
	a.rep.Changed(ctx, runtime.Change{Action: "paused", Object: "container", Name: a.name(rp.Name), Replica: rp.Name})
	return nil
}
