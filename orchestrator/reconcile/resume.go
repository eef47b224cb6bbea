package reconcile

import (
	"context"
	"fmt"
	"sync"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
)

// Resume wakes a paused tenant by the shortest path, for the router's
// first request after the pause tier: the containers are thawed together
// (a frozen process carries on where it stopped, so no start order
// applies), the routed replicas probed, and the route and state published.
// A tenant that is not simply paused as its last pass left it gets
// Activate's full pass instead.
func (r *Reconciler) Resume(ctx context.Context, tenantID string) error {
	done, err := r.resume(ctx, tenantID)
	if done || err != nil {
		return err
	}
	return r.Activate(ctx, tenantID)
}

// resume reports false when the fast path does not apply.
func (r *Reconciler) resume(ctx context.Context, id string) (bool, error) {
	unlock, err := r.locks.lock(ctx, id)
	if err != nil {
		return false, err
	}
	defer unlock()
	t, err := r.db.TenantByID(ctx, id)
	if err != nil {
		return false, err
	}
	rte, ok := r.routes.Get(t.Slug)
	if t.DesiredState != domain.DesiredRunning || !t.Paused || !ok || rte.State != domain.StatePaused || len(rte.Backends) == 0 {
		return false, nil
	}
	r.mu.Lock()
	cv, known := r.converged[id]
	r.mu.Unlock()
	if !known || cv.mode != runtime.ModePaused || cv.generation != t.Generation {
		return false, nil
	}
	obs, err := r.rt.Observe(ctx, id)
	if err != nil || live(obs) != cv.containers {
		return false, nil
	}
	// The flag first: were the thaw to be cut short, the next pass
	// completes it rather than freezing the tenant again.
	if err := r.db.SetTenantPaused(ctx, id, false); err != nil {
		return false, err
	}
	if err := r.rt.Resume(ctx, id); err != nil {
		r.log.Warn("fast resume failed, running a full pass", "tenant", t.Slug, "err", err)
		return false, nil
	}
	rctx, cancel := context.WithTimeout(ctx, r.opts.ReadyTimeout)
	defer cancel()
	if err := eachConcurrently(rte.Backends, func(b string) error {
		return r.opts.Ready(rctx, "http://"+b+rte.Readiness)
	}); err != nil {
		return false, fmt.Errorf("resume %s: %w", t.Slug, err)
	}
	r.mu.Lock()
	cv.mode = runtime.ModeRunning
	r.converged[id] = cv
	r.mu.Unlock()
	r.setRoute(t, domain.StateRunning, rte.Backends, rte.Readiness)
	if err := r.db.SetTenantState(ctx, id, domain.StateRunning, ""); err != nil {
		return true, err
	}
	return true, nil
}

// live counts the replicas that run or are paused.
func live(obs runtime.Observation) int {
	n := 0
	for _, rp := range obs.Replicas {
		if rp.Running || rp.Paused {
			n++
		}
	}
	return n
}

// eachConcurrently runs fn on every item at once and returns the first error.
func eachConcurrently[T any](items []T, fn func(T) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(items))
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(it)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
