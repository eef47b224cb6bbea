package router

import (
	"context"
	"log/slog"
	"time"

	"appfactory/domain"
)

// eventRecorder stores a tenant's events.
type eventRecorder interface {
	AddEvent(ctx context.Context, tenantID, kind, message string) error
}

// WarmUpPrefix starts what woke a tenant that was warmed up before any
// request, in its activations and events.
const WarmUpPrefix = "warm-up: "

// Warm starts a sleeping tenant before its first request, because intent
// is clear (its owner opened its page, a demo link was opened, a keep-warm
// window began): one activation with the requests that may follow, like
// any other. A tenant that runs, deploys, expired or is unknown is left
// as it is; Warm reports whether it started (or joined) an activation.
func (rt *Router) Warm(tenantID, reason string) bool {
	rte, ok := rt.routes.ByTenant(tenantID)
	if !ok {
		return false
	}
	switch rte.State {
	case domain.StatePassivated, domain.StatePaused, domain.StatePassivating:
	default:
		return false
	}
	if f := rt.flights.get(tenantID); f != nil && !f.finished() {
		return true // already starting: nothing to record twice
	}
	f := rt.activate(rte, WarmUpPrefix+reason)
	if f.finished() {
		// A recent failure still in its backoff: not started again.
		return false
	}
	rt.logger.Info("warming up tenant", slog.String("tenant", rte.Slug), slog.String("reason", reason))
	if rt.cfg.Events != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rt.cfg.Events.AddEvent(ctx, tenantID, domain.EventDesired, "Warming up: "+reason+"."); err != nil {
			rt.logger.Warn("record warm-up", slog.String("tenant", rte.Slug), slog.Any("err", err))
		}
	}
	return true
}
