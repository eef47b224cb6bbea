package reconcile

import (
	"context"
	"fmt"
	"slices"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/store"
)

// Activate makes a tenant run now: desired running and not paused, one pass
// that starts (or resumes) its containers in dependency order, waits until
// the routed replicas answer their readiness path and updates the route
// table. It returns once the tenant serves, or the error that stopped it.
// Concurrent calls for one tenant are serialised.
func (r *Reconciler) Activate(ctx context.Context, tenantID string) error {
	return r.passNow(ctx, tenantID, func(ctx context.Context) error {
		t, err := r.db.TenantByID(ctx, tenantID)
		if err != nil {
			return err
		}
		if t.DesiredState == domain.DesiredDeleted {
			return apperr.New(apperr.NotFound, "Deployment not found.")
		}
		if t.DesiredState != domain.DesiredRunning {
			if err := r.db.SetDesiredState(ctx, tenantID, domain.DesiredRunning); err != nil {
				return err
			}
		}
		if t.Paused {
			if err := r.db.SetTenantPaused(ctx, tenantID, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// Passivate stops a tenant's containers gracefully, keeping its volumes and
// network; its host then answers with the starting page until Activate.
func (r *Reconciler) Passivate(ctx context.Context, tenantID, reason string) error {
	return r.passNow(ctx, tenantID, func(ctx context.Context) error {
		t, err := r.db.TenantByID(ctx, tenantID)
		if err != nil {
			return err
		}
		if t.DesiredState == domain.DesiredDeleted {
			return apperr.New(apperr.NotFound, "Deployment not found.")
		}
		if t.DesiredState != domain.DesiredPassivated {
			if err := r.db.SetDesiredState(ctx, tenantID, domain.DesiredPassivated); err != nil {
				return err
			}
			if reason != "" {
				r.event(ctx, tenantID, domain.EventDesired, "Passivating: %s", reason)
			}
		}
		return nil
	})
}

// Pause freezes a running tenant's containers (the sleep tier): state and
// route "paused", backends kept; Activate resumes them. On a runtime that
// cannot pause, the tier is skipped and the tenant is passivated instead,
// so a caller asking for sleep still gets it.
func (r *Reconciler) Pause(ctx context.Context, tenantID string) error {
	if !r.CanPause() {
		return r.Passivate(ctx, tenantID, "idle (this runtime cannot pause)")
	}
	return r.passNow(ctx, tenantID, func(ctx context.Context) error {
		t, err := r.db.TenantByID(ctx, tenantID)
		if err != nil {
			return err
		}
		if t.DesiredState != domain.DesiredRunning {
			return apperr.New(apperr.Conflict, "Only a running deployment can be paused.")
		}
		if !t.Paused {
			return r.db.SetTenantPaused(ctx, tenantID, true)
		}
		return nil
	})
}

// CanPause says whether the runtime has the pause tier; the passivator
// leaves it out when not.
func (r *Reconciler) CanPause() bool { return r.rt.Capabilities().Pause }

// passNow changes a tenant's wish (prep) and runs a pass for it in the
// caller's goroutine, both under the tenant's lock. The pass itself is not
// cut short by the caller going away (a start half done helps nobody), but
// is bounded in time.
func (r *Reconciler) passNow(ctx context.Context, tenantID string, prep func(context.Context) error) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*r.opts.ReadyTimeout+time.Minute)
	defer cancel()
	r.mu.Lock()
	delete(r.notBefore, tenantID)
	r.mu.Unlock()
	if err := r.reconcileWith(pctx, tenantID, prep); err != nil {
		return fmt.Errorf("reconcile tenant %s: %w", tenantID, err)
	}
	return nil
}

// setRoute publishes a tenant's route; the generation moves whenever the
// backends change, so the router can drop connections to old ones.
func (r *Reconciler) setRoute(t *store.Tenant, state string, backends []string, readiness string) {
	old, ok := r.routes.Get(t.Slug)
	gen := old.Generation
	if !ok || !slices.Equal(old.Backends, backends) {
		gen++
	}
	if ok && old.State == state && old.Generation == gen && old.Title == t.Title && old.Readiness == readiness {
		return
	}
	r.routes.Set(route.Route{
		TenantID:   t.ID,
		Slug:       t.Slug,
		Title:      t.Title,
		State:      state,
		Backends:   backends,
		Readiness:  readiness,
		Generation: gen,
	})
}
