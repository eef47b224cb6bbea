package sleep

import (
	"context"
	"errors"
	"log/slog"

	"appfactory/domain"
)

// errEvictBusy says a tenant chosen for eviction got a request (or is
// being put to sleep already) and was left alone.
var errEvictBusy = errors.New("tenant busy: not evicted")

// Evictable reports which tenants the memory budget may put to sleep:
// those of an environment that sleeps (never production) that should run.
func (p *Passivator) Evictable(ctx context.Context) (map[string]bool, error) {
	cands, err := p.store.SleepCandidates(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(cands))
	for _, c := range cands {
		idle, _ := p.cfg.Policy(c.Environment)
		out[c.ID] = idle > 0 && c.DesiredState == domain.StateRunning && c.State != domain.StateExpired
	}
	return out, nil
}

// Evict puts a running or paused tenant to sleep now to free its memory
// for another's start, as its idle timeout would: out of service first,
// then a last look at its requests, then the stop. A tenant that got a
// request meanwhile, or that is being put to sleep already, is left
// alone (errEvictBusy).
func (p *Passivator) Evict(ctx context.Context, tenantID, reason string) error {
	p.mu.Lock()
	if p.busy[tenantID] {
		p.mu.Unlock()
		return errEvictBusy
	}
	p.busy[tenantID] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.busy, tenantID)
		p.mu.Unlock()
	}()
	r, ok := p.routes.ByTenant(tenantID)
	idle := func() bool { return p.activity.InFlight(tenantID) == 0 }
	if !ok || !idle() {
		return errEvictBusy
	}
	done, err := p.outOfServiceThen(r.Slug, idle, func() error {
		p.logger.Info("passivating tenant for memory", slog.String("tenant", r.Slug), slog.String("reason", reason))
		return p.sleeper.Passivate(ctx, tenantID, reason)
	})
	if !done {
		return errEvictBusy
	}
	return err
}
