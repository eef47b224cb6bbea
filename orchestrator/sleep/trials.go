package sleep

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// expire stops an expired trial and marks it expired; its route answers
// 410 from then on.
func (p *Passivator) expire(ctx context.Context, c store.SleepCandidate, at time.Time) error {
	p.logger.Info("trial expired", slog.String("tenant", c.Slug), slog.Time("expires_at", at))
	// Expired first: the stop that follows keeps that state (and the
	// route answers 410 at once, not the starting page).
	msg := fmt.Sprintf("The trial expired on %s; it is removed after %s unless extended.",
		at.UTC().Format("2006-01-02 15:04 UTC"), humanDuration(p.cfg.ExpiredGrace))
	if err := p.store.SetTenantState(ctx, c.ID, domain.StateExpired, msg); err != nil {
		return fmt.Errorf("mark %s expired: %w", c.Slug, err)
	}
	p.mu.Lock()
	p.expired[c.ID] = true
	p.mu.Unlock()
	p.setRouteState(c.Slug, domain.StateExpired)
	if err := p.sleeper.Passivate(ctx, c.ID, "trial expired"); err != nil {
		return fmt.Errorf("stop expired tenant %s: %w", c.Slug, err)
	}
	// Whatever the stop published, the route of an expired trial says so.
	p.setRouteState(c.Slug, domain.StateExpired)
	return nil
}

// remove deletes a trial whose grace period after expiry has passed.
func (p *Passivator) remove(ctx context.Context, c store.SleepCandidate) error {
	p.logger.Info("removing expired trial", slog.String("tenant", c.Slug))
	if err := p.store.AddEvent(ctx, c.ID, domain.EventExpiry, "Removed "+humanDuration(p.cfg.ExpiredGrace)+" after the trial expired."); err != nil {
		return err
	}
	if err := p.store.SetDesiredState(ctx, c.ID, domain.DesiredDeleted); err != nil {
		return fmt.Errorf("remove expired tenant %s: %w", c.Slug, err)
	}
	p.sleeper.Wake(c.ID)
	return nil
}

// Extend lengthens a trial by days; an expired trial comes back as
// passivated, so that its next request starts it.
func (p *Passivator) Extend(ctx context.Context, tenantID string, days int) (time.Time, error) {
	if days < 1 || days > 365 {
		return time.Time{}, apperr.FieldError(apperr.Invalid, "days", "Extend by 1 to 365 days.")
	}
	until, state, err := p.store.ExtendTenant(ctx, tenantID, days)
	if err != nil {
		return time.Time{}, err
	}
	msg := fmt.Sprintf("Trial extended by %d days, to %s.", days, until.UTC().Format("2006-01-02 15:04 UTC"))
	if state != domain.StateExpired {
		return until, p.store.AddEvent(ctx, tenantID, domain.EventExpiry, msg)
	}
	if err := p.store.SetTenantState(ctx, tenantID, domain.StatePassivated, msg); err != nil {
		return until, err
	}
	p.mu.Lock()
	delete(p.expired, tenantID)
	p.mu.Unlock()
	if r, ok := p.routes.ByTenant(tenantID); ok {
		p.setRouteState(r.Slug, domain.StatePassivated)
	}
	return until, nil
}

// humanDuration writes 168h as "7 days" and shorter spans as Go does.
func humanDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}
