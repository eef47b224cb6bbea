package reconcile

// The routed replicas of a pass: their addresses on the tenant network and
// their readiness, which the route table is filled from.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// backends returns host:port of each routed replica on the tenant network,
// probing each for readiness first when probe is set.
func (p *pass) backends(ctx context.Context, st *stack.TenantStack, probe bool) ([]string, error) {
	var routed []runtime.ContainerSpec
	for _, s := range st.Services {
		if s.Routed {
			routed = s.Containers
		}
	}
	out := make([]string, len(routed))
	errs := make([]error, len(routed))
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.ReadyTimeout)
	defer cancel()
	done := make(chan struct{}, len(routed))
	for i, spec := range routed {
		go func() {
			defer func() { done <- struct{}{} }()
			c, ip, err := p.r.address(ctx, spec.Name, st.Network.Name)
			if err != nil {
				errs[i] = err
				return
			}
			addr := ip + ":" + strconv.Itoa(st.RoutePort)
			if probe {
				if err := p.r.probe(ctx, c.ID, "http://"+addr+st.Readiness); err != nil {
					errs[i] = stepFailed(err, "%s did not answer %s within %s", spec.Name, st.Readiness, p.r.opts.ReadyTimeout)
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

// addressPoll is how often a running container without an address yet is
// inspected again.
const addressPoll = 20 * time.Millisecond

// address inspects a container for its address on the tenant network. A
// container that has just been started (or whose start the engine is still
// completing after appfactory itself was killed) may not have one yet: it
// is inspected again while it runs, until ctx ends.
func (r *Reconciler) address(ctx context.Context, name, network string) (runtime.Container, string, error) {
	for {
		c, err := r.rt.Inspect(ctx, name)
		if err != nil {
			return c, "", stepFailed(err, "Inspecting container %s failed", name)
		}
		if ip := c.IPs[network]; ip != "" {
			return c, ip, nil
		}
		if !c.Running && !c.Paused && c.State != "restarting" {
			return c, "", stepFailed(fmt.Errorf("no address on %s: %v (%s)", network, c.IPs, c.State), "Container %s has no address on its network", name)
		}
		t := time.NewTimer(addressPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return c, "", stepFailed(fmt.Errorf("no address on %s: %v: %w", network, c.IPs, ctx.Err()), "Container %s has no address on its network", name)
		case <-t.C:
		}
	}
}

// probeWatch is how often a container is checked while its readiness is
// probed: one that stops meanwhile ends the probe at once, rather than
// holding the pass (and its tenant) until the timeout.
const probeWatch = 200 * time.Millisecond

// probe waits until url answers, giving up as soon as the container stops
// running.
func (r *Reconciler) probe(ctx context.Context, containerID, url string) error {
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
				c, err := r.rt.Inspect(ctx, containerID)
				if err == nil && !c.Running {
					cancel(fmt.Errorf("the container stopped (%s, exit code %d)", c.State, c.ExitCode))
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
