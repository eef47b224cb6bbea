package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// resync is the periodic comparison: one listing of every object of this
// instance, a cheap check per tenant against what its last pass left (a
// tenant that differs is queued for a full pass), and the orphan sweep.
func (r *Reconciler) resync(ctx context.Context) error {
	only := map[string]string{stack.LabelInstance: r.opts.InstanceID}
	// Docker first, then the database: an object in the listing belongs to
	// a tenant row that exists by the time the tenants are read.
	cs, err := r.rt.ListContainers(ctx, only, true)
	if err != nil {
		return err
	}
	// A network or volume listing that fails (the engine is busy) still
	// lets the containers be checked; only the sweep waits for next time.
	ns, nerr := r.rt.ListNetworks(ctx, only)
	vs, verr := r.rt.ListVolumes(ctx, only)
	ts, err := r.db.TenantsForReconcile(ctx)
	if err != nil {
		return err
	}
	live := make(map[string]bool, len(ts))
	byTenant := map[string][]runtime.Container{}
	for _, c := range cs {
		byTenant[c.Labels[stack.LabelTenant]] = append(byTenant[c.Labels[stack.LabelTenant]], c)
	}
	networks := map[string]int{}
	for _, n := range ns {
		networks[n.Labels[stack.LabelTenant]]++
	}
	now := time.Now()
	var queue []string
	for i := range ts {
		t := &ts[i]
		live[t.ID] = true
		r.mu.Lock()
		waiting := now.Before(r.notBefore[t.ID])
		r.mu.Unlock()
		nets := networks[t.ID]
		if nerr != nil {
			nets = 1 // unknown: judged by the containers alone
		}
		if !waiting && !r.looksConverged(t, byTenant[t.ID], nets) {
			queue = append(queue, t.ID)
		}
	}
	r.queue.add(queue...)
	if nerr != nil || verr != nil {
		return errors.Join(nerr, verr)
	}
	r.sweepOrphans(ctx, live, cs, ns, vs, now)
	return nil
}

// looksConverged reports whether a tenant's listed containers are what its
// last successful pass left for its current generation and mode.
func (r *Reconciler) looksConverged(t *store.Tenant, cs []runtime.Container, networks int) bool {
	r.mu.Lock()
	cv, ok := r.converged[t.ID]
	r.mu.Unlock()
	mode := tenantMode(t)
	if !ok || t.DesiredState == domain.DesiredDeleted || cv.mode != mode || cv.generation != t.Generation ||
		t.Image == "" || len(cs) != cv.containers || networks != 1 {
		return false
	}
	want := map[string]string{modeRunning: domain.StateRunning, modePaused: domain.StatePaused, modePassivated: domain.StatePassivated}[mode]
	if t.State != want && !(mode == modePassivated && t.State == domain.StateExpired) {
		return false
	}
	gen := strconv.FormatInt(t.Generation, 10)
	for _, c := range cs {
		if c.Labels[stack.LabelGeneration] != gen {
			return false
		}
		switch mode {
		case modeRunning:
			if !c.Running {
				return false
			}
		case modePaused:
			if !c.Paused {
				return false
			}
		case modePassivated:
			if c.Running || c.Paused {
				return false
			}
		}
	}
	return true
}

// sweepOrphans removes objects of this instance whose tenant does not exist
// or is deleted and cleaned up, once they have been seen so for the grace
// period: an object found during a concurrent deploy is never touched.
func (r *Reconciler) sweepOrphans(ctx context.Context, live map[string]bool, cs []runtime.Container, ns []runtime.Network, vs []runtime.Volume, now time.Time) {
	seen := map[string]bool{}
	due := func(key, tenant string) bool {
		if live[tenant] {
			return false
		}
		seen[key] = true
		r.mu.Lock()
		defer r.mu.Unlock()
		first, ok := r.orphanSeen[key]
		if !ok {
			r.orphanSeen[key] = now
			return false
		}
		return now.Sub(first) >= r.opts.OrphanGrace
	}
	removed := func(kind, name, tenant string, err error) {
		if err != nil {
			r.log.Warn("remove orphan", slog.String("kind", kind), slog.String("name", name), slog.Any("err", err))
			return
		}
		r.log.Info("removed orphan", slog.String("kind", kind), slog.String("name", name), slog.String("tenant", tenant))
		if tenant != "" {
			if _, err := r.db.TenantByID(ctx, tenant); err == nil {
				r.event(ctx, tenant, domain.EventObject, "Removed orphaned %s %s", kind, name)
			}
		}
	}
	for _, c := range cs {
		tenant := c.Labels[stack.LabelTenant]
		if due("c:"+c.ID, tenant) {
			removed("container", c.Name, tenant, r.rt.RemoveContainer(ctx, c.ID))
		}
	}
	for _, v := range vs {
		tenant := v.Labels[stack.LabelTenant]
		if due("v:"+v.Name, tenant) {
			removed("volume", v.Name, tenant, r.rt.RemoveVolume(ctx, v.Name))
		}
	}
	for _, n := range ns {
		tenant := n.Labels[stack.LabelTenant]
		if due("n:"+n.ID, tenant) {
			removed("network", n.Name, tenant, r.rt.RemoveNetwork(ctx, n.ID))
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
