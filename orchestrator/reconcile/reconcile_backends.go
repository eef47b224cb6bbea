package reconcile

// The routed replicas of a pass: their addresses on the tenant network and
// their readiness, which the route table is filled from.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// backends returns host:port of each routed replica, probing each for
// readiness first when probe is set.
func (p *pass) backends(ctx context.Context, st *stack.TenantStack, obs runtime.Observation, probe bool) ([]string, error) {
	routed := obs.Service(st.RouteService)
	out := make([]string, len(routed))
	errs := make([]error, len(routed))
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.ReadyTimeout)
	defer cancel()
	done := make(chan struct{}, len(routed))
	for i, rp := range routed {
		go func() {
			defer func() { done <- struct{}{} }()
			addr := rp.Dial(st.RoutePort)
			if addr == "" {
				errs[i] = runtime.StepFailed(fmt.Errorf("no address (%s)", rp.State), "Replica %s has no address on its network", rp.Name)
				return
			}
			if probe {
				if err := p.r.probe(ctx, p.t.ID, rp.Name, "http://"+addr+st.Readiness); err != nil {
					errs[i] = runtime.StepFailed(err, "%s did not answer %s within %s", rp.Name, st.Readiness, p.r.opts.ReadyTimeout)
					return
				}
			}
			out[i] = addr
		}()
	}
	for range routed {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// probeWatch is how often a replica is checked while its readiness is
// probed: one that stops meanwhile ends the probe at once, rather than
// holding the pass (and its tenant) until the timeout.
const probeWatch = 200 * time.Millisecond

// probe waits until url answers, giving up as soon as the replica stops
// running.
func (r *Reconciler) probe(ctx context.Context, tenant, replica, url string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		t := time.NewTicker(probeWatch)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if rp, ok := r.replica(ctx, tenant, replica); ok && !rp.Running {
					cancel(fmt.Errorf("the replica stopped (%s, exit code %d)", rp.State, rp.ExitCode))
					return
				}
			}
		}
	}()
	err := r.opts.Ready(ctx, url)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return err
}

// replica observes one replica of a tenant; false when it cannot be read
// or does not exist.
func (r *Reconciler) replica(ctx context.Context, tenant, name string) (runtime.Replica, bool) {
	obs, err := r.rt.Observe(ctx, tenant)
	if err != nil {
		return runtime.Replica{}, false
	}
	for _, rp := range obs.Replicas {
		if rp.Name == name {
			return rp, true
		}
	}
	return runtime.Replica{}, false
}
