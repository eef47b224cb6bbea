package reconcile

import (
	"context"
	"log/slog"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// resync is the periodic comparison: one observation of every tenant with
// objects of this instance, a cheap check per tenant against what its last
// pass left (a tenant that differs is queued for a full pass), and the
// orphan sweep.
func (r *Reconciler) resync(ctx context.Context) error {
	// The runtime first, then the database: an object observed belongs to
	// a tenant row that exists by the time the tenants are read.
	obs, err := r.rt.Tenants(ctx)
	if err != nil {
		return err
	}
	ts, err := r.db.TenantsForReconcile(ctx)
	if err != nil {
		return err
	}
	live := make(map[string]bool, len(ts))
	byTenant := make(map[string]runtime.Observation, len(obs))
	for _, o := range obs {
		byTenant[o.Tenant] = o
	}
	now := time.Now()
	var queue []string
	for i := range ts {
		t := &ts[i]
		live[t.ID] = true
		r.mu.Lock()
		waiting := now.Before(r.notBefore[t.ID])
		r.mu.Unlock()
		if !waiting && !r.looksConverged(t, byTenant[t.ID]) {
			queue = append(queue, t.ID)
		}
	}
	r.queue.add(queue...)
	r.sweepOrphans(ctx, live, obs, now)
	return nil
}

// looksConverged reports whether a tenant's observed replicas are what its
// last successful pass left for its current generation and mode.
func (r *Reconciler) looksConverged(t *store.Tenant, o runtime.Observation) bool {
	r.mu.Lock()
	cv, ok := r.converged[t.ID]
	r.mu.Unlock()
	mode := tenantMode(t)
	if !ok || t.DesiredState == domain.DesiredDeleted || cv.mode != mode || cv.generation != t.Generation ||
		t.Image == "" || len(o.Replicas) != cv.containers || !o.Network {
		return false
	}
	want := map[runtime.Mode]string{runtime.ModeRunning: domain.StateRunning, runtime.ModePaused: domain.StatePaused, runtime.ModeStopped: domain.StatePassivated}[mode]
	if t.State != want && !(mode == runtime.ModeStopped && t.State == domain.StateExpired) {
		return false
	}
	for _, rp := range o.Replicas {
		if rp.Generation != t.Generation {
			return false
		}
		switch mode {
		case runtime.ModeRunning:
			if !rp.Running {
				return false
			}
		case runtime.ModePaused:
			if !rp.Paused {
				return false
			}
		case runtime.ModeStopped:
			if rp.Running || rp.Paused {
				return false
			}
		}
	}
	return true
}

// sweepOrphans removes the objects of tenants that do not exist or are
// deleted and cleaned up, once they have been seen so for the grace
// period: objects found during a concurrent deploy are never touched.
func (r *Reconciler) sweepOrphans(ctx context.Context, live map[string]bool, obs []runtime.Observation, now time.Time) {
	seen := map[string]bool{}
	for _, o := range obs {
		if o.Tenant == "" || live[o.Tenant] {
			continue
		}
		seen[o.Tenant] = true
		r.mu.Lock()
		first, ok := r.orphanSeen[o.Tenant]
		if !ok {
			r.orphanSeen[o.Tenant] = now
		}
		r.mu.Unlock()
		if !ok || now.Sub(first) < r.opts.OrphanGrace {
			continue
		}
		rep := &orphanReporter{r: r, tenant: o.Tenant}
		if err := r.rt.Remove(ctx, o.Tenant, rep); err != nil {
			r.log.Warn("remove orphan", slog.String("tenant", o.Tenant), slog.Any("err", err))
		}
	}
	r.mu.Lock()
	for key := range r.orphanSeen {
		if !seen[key] {
			delete(r.orphanSeen, key)
		}
	}
	r.mu.Unlock()
}

// orphanReporter logs what the sweep removed, and tells a tenant row that
// still exists (deleted and cleaned) in its events.
type orphanReporter struct {
	r      *Reconciler
	tenant string
	known  *bool
}

func (o *orphanReporter) Begin(context.Context, bool) error { return nil }
func (o *orphanReporter) Point(string)                      {}

func (o *orphanReporter) Changed(ctx context.Context, c runtime.Change) {
	o.r.log.Info("removed orphan", slog.String("kind", c.Object), slog.String("name", c.Name), slog.String("tenant", o.tenant))
	if o.known == nil {
		_, err := o.r.db.TenantByID(ctx, o.tenant)
		known := o.tenant != "" && err == nil
		o.known = &known
	}
	if *o.known {
		o.r.event(ctx, o.tenant, domain.EventObject, "Removed orphaned %s %s", c.Object, c.Name)
	}
}
