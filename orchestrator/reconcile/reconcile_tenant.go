package reconcile

import (
	"context"
	"slices"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// tenantMode is what a tenant's replicas should be doing, from its desired
// state and pause flag.
func tenantMode(t *store.Tenant) runtime.Mode {
	switch {
	case t.DesiredState == domain.DesiredPassivated:
		return runtime.ModeStopped
	case t.Paused:
		return runtime.ModePaused
	}
	return runtime.ModeRunning
}

// pass is one reconcile pass over one tenant.
// It is the runtime's Reporter for the pass: the runtime's changes become
// the tenant's events, its first change moves the tenant's state.
type pass struct {
	r     *Reconciler
	t     *store.Tenant
	began bool
	// held are the image tags this pass keeps from removal; dropped those
	// it stopped using, removed after the pass if nobody uses them.
	held, dropped []string
}

// Begin implements runtime.Reporter.
func (p *pass) Begin(ctx context.Context, creating bool) error { return p.begin(ctx, creating) }

// Changed implements runtime.Reporter: an event of the tenant. A replica
// that had exited and is started again died, if the tenant was running.
func (p *pass) Changed(ctx context.Context, c runtime.Change) {
	died := p.t.State == domain.StateRunning || p.t.State == domain.StatePaused
	p.event(ctx, domain.EventObject, "%s", c.Message(died))
	if c.Released != "" {
		p.dropImage(c.Released)
	}
}

// Point implements runtime.Reporter: the crash tests' failpoints.
func (p *pass) Point(name string) { p.r.failpoint(name) }

// reconcileTenant compares one tenant's desired and actual state and acts.
func (r *Reconciler) reconcileTenant(ctx context.Context, t *store.Tenant) error {
	if t.Cleaned() {
		r.routes.Delete(t.Slug)
		r.forget(t.ID)
		return nil
	}
	p := &pass{r: r, t: t}
	defer func() {
		r.images.release(p.held)
		r.removeUnusedImages(ctx, p.dropped)
	}()
	if t.DesiredState == domain.DesiredDeleted {
		return p.teardown(ctx)
	}
	if _, ok := r.routes.Get(t.Slug); !ok {
		// The host is known from the start: the router shows progress, not 404.
		r.setRoute(t, t.State, nil, "")
	}
	if err := p.ensureImage(ctx); err != nil {
		return err
	}
	st, err := r.opts.Blueprints.Stack(ctx, t, r.stackParams(t))
	if err != nil {
		return runtime.StepFailed(err, "Preparing the deployment's stack failed")
	}
	if err := p.restorePending(ctx, &st.Stack); err != nil {
		return err
	}
	return p.converge(ctx, st)
}

func (r *Reconciler) stackParams(t *store.Tenant) stack.StackParams {
	return stack.StackParams{
		TenantID:   t.ID,
		Slug:       t.Slug,
		Generation: t.Generation,
		Mode:       tenantMode(t),
		Replicas:   t.Replicas,
		Labels:     r.opts.Labels,
		Pool:       t.Environment,
	}
}

// begin moves the tenant into the transitional state of the work about to
// be done, once per pass and only when there is work. Repairing a running
// tenant (starting a container that died) leaves its state alone: events
// tell about it.
func (p *pass) begin(ctx context.Context, creating bool) error {
	if p.began {
		return nil
	}
	p.began = true
	t := p.t
	if t.State == domain.StateFailed && t.Failures > 0 {
		return nil // retrying after failures: stay failed until it works
	}
	var st string
	switch {
	case t.DesiredState == domain.DesiredDeleted:
		st = domain.StateDeleting
	case t.DesiredState == domain.DesiredPassivated && t.State == domain.StateExpired:
		// An expired trial stays expired while it is stopped (passivator.go).
	case t.DesiredState == domain.DesiredPassivated:
		st = domain.StatePassivating
	case t.Paused:
	case slices.Contains([]string{domain.StatePassivated, domain.StatePaused, domain.StatePassivating, domain.StateActivating}, t.State):
		st = domain.StateActivating
	case creating || t.State != domain.StateRunning:
		st = domain.StateDeploying
	}
	if st == "" || st == t.State {
		return nil
	}
	if err := p.r.db.SetTenantState(ctx, t.ID, st, ""); err != nil {
		return err
	}
	t.State = st
	return nil
}

// finish records the state a successful pass reached.
func (p *pass) finish(ctx context.Context, state, message string, containers int) error {
	if err := p.r.db.SetTenantState(ctx, p.t.ID, state, message); err != nil {
		return err
	}
	p.t.State = state
	p.r.mu.Lock()
	p.r.converged[p.t.ID] = convergedState{generation: p.t.Generation, containers: containers, mode: tenantMode(p.t)}
	p.r.mu.Unlock()
	return nil
}

func (p *pass) event(ctx context.Context, kind, format string, args ...any) {
	p.r.event(ctx, p.t.ID, kind, format, args...)
}

// converge has the runtime apply the tenant's stack in its mode, then
// publishes the route the result allows.
func (p *pass) converge(ctx context.Context, st *stack.TenantStack) error {
	mode := tenantMode(p.t)
	if mode == runtime.ModeStopped {
		// However the stop was asked for (the passivator, a button), new
		// requests wait for the next activation rather than reach
		// replicas that are stopping.
		if r, ok := p.r.routes.Get(p.t.Slug); ok && (r.State == domain.StateRunning || r.State == domain.StatePaused) {
			p.r.setRoute(p.t, domain.StatePassivating, nil, st.Readiness)
		}
	}
	release, err := p.admit(ctx, st, mode) // budget.go: waits for the memory budget
	if err != nil {
		return err
	}
	defer release()
	obs, err := p.r.rt.Apply(ctx, &st.Stack, p)
	if err != nil {
		return err
	}
	n := len(obs.Replicas)
	switch mode {
	case runtime.ModeStopped:
		state, msg := domain.StatePassivated, ""
		if p.t.State == domain.StateExpired {
			state, msg = domain.StateExpired, p.t.StateMessage
		}
		p.r.setRoute(p.t, state, nil, st.Readiness)
		return p.finish(ctx, state, msg, n)
	case runtime.ModePaused:
		backends, err := p.backends(ctx, st, obs, false)
		if err != nil {
			return err
		}
		p.r.setRoute(p.t, domain.StatePaused, backends, st.Readiness)
		return p.finish(ctx, domain.StatePaused, "", n)
	}
	// A pass that changed nothing of a running tenant whose route already
	// holds these addresses has nothing to probe.
	backends, err := p.backends(ctx, st, obs, false)
	if err != nil {
		return err
	}
	rte, ok := p.r.routes.Get(p.t.Slug)
	if p.began || p.t.State != domain.StateRunning || !ok || rte.State != domain.StateRunning || !slices.Equal(rte.Backends, backends) {
		if backends, err = p.backends(ctx, st, obs, true); err != nil {
			return err
		}
	}
	p.r.setRoute(p.t, domain.StateRunning, backends, st.Readiness)
	return p.finish(ctx, domain.StateRunning, "", n)
}

// forget drops what the reconciler remembers of a tenant.
func (r *Reconciler) forget(id string) {
	r.mu.Lock()
	delete(r.converged, id)
	delete(r.notBefore, id)
	r.mu.Unlock()
}
