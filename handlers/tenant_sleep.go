package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/sleep"
	"appfactory/store"
	"appfactory/views"
)

// SleepPolicies says how a tenant sleeps once its environment, the
// server's flags and its own policy are applied: the passivator.
type SleepPolicies interface {
	Effective(ctx context.Context, env string, pol store.TenantPolicy) (sleep.Effective, error)
	// PendingAwake is awake time counted and not yet written.
	PendingAwake(tenantID string) (awake, unused time.Duration)
}

// wakeSpan is the span of the why-awake facts.
const wakeSpan = 7 * 24 * time.Hour

// maxIdleTimeout bounds a tenant's own idle timeout.
const maxIdleTimeout = 30 * 24 * time.Hour

// sleepFacts is everything a tenant page and its API object say of how
// it sleeps and why it is awake.
type sleepFacts struct {
	Policy    store.TenantPolicy
	Effective sleep.Effective
	Wake      store.WakeFacts
	Report    store.WakeReport
}

func (h *Handlers) sleepFacts(ctx context.Context, t *store.Tenant) (sleepFacts, error) {
	var f sleepFacts
	var err error
	if f.Policy, err = h.DB.TenantPolicy(ctx, t.ID); err != nil {
		return f, err
	}
	if h.Sleep != nil {
		if f.Effective, err = h.Sleep.Effective(ctx, t.Environment, f.Policy); err != nil {
			return f, err
		}
	}
	if f.Wake, err = h.DB.TenantWakeFacts(ctx, t.ID); err != nil {
		return f, err
	}
	if f.Report, err = h.DB.TenantWakeReport(ctx, t.ID, h.DB.Now().Add(-wakeSpan)); err != nil {
		return f, err
	}
	if h.Sleep != nil {
		awake, unused := h.Sleep.PendingAwake(t.ID)
		f.Report.Awake += awake
		f.Report.Unused += unused
	}
	return f, nil
}

// parsePolicy reads a policy as typed in the tenant page's form or sent to
// the API: idle "" (the environment's), "never", a duration like "45m" or
// minutes; pause "", "default", "on" or "off"; keep-warm windows as
// sleep.ParseWindows reads them.
func parsePolicy(idle, pause, keepWarm string) (store.TenantPolicy, views.FieldErrors) {
	var p store.TenantPolicy
	var errs views.FieldErrors
	switch idle = strings.ToLower(strings.TrimSpace(idle)); idle {
	case "", "default":
	case "never", "0":
		zero := time.Duration(0)
		p.Idle = &zero
	default:
		d, err := time.ParseDuration(idle)
		if n, nerr := strconv.Atoi(idle); nerr == nil {
			d, err = time.Duration(n)*time.Minute, nil
		}
		switch {
		case err != nil:
			errs.Set("idle_timeout", `Write a duration like "45m" or "2h", or "never".`)
		case d < time.Minute || d > maxIdleTimeout:
			errs.Set("idle_timeout", "Choose between 1 minute and 30 days, or never.")
		default:
			d = d.Truncate(time.Second)
			p.Idle = &d
		}
	}
	switch pause = strings.ToLower(strings.TrimSpace(pause)); pause {
	case "", "default":
	case store.PauseOn, store.PauseOff:
		p.Pause = pause
	default:
		errs.Set("pause", "Choose on, off or the environment's default.")
	}
	ws, err := sleep.ParseWindows(keepWarm)
	if err != nil {
		errs.Set("keep_warm", strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".")
	} else {
		p.KeepWarm = ws.String()
	}
	return p, errs
}

// policyEditable loads a tenant whose sleep policy the user may set: sales
// people and admins; the owner is told whom to ask, anyone else finds
// nothing.
func (h *Handlers) policyEditable(ctx context.Context, u *store.User, id string) (*store.Tenant, error) {
	t, err := h.tenantFor(ctx, u, id, false)
	if err != nil {
		return nil, err
	}
	if t.DesiredState == domain.DesiredDeleted {
		return nil, apperr.New(apperr.NotFound, "Deployment not found.")
	}
	if !u.IsStaff() {
		return nil, apperr.New(apperr.Forbidden, "Ask your contact to change how this deployment sleeps.")
	}
	return t, nil
}

// idleText writes an idle timeout for people.
func idleText(d time.Duration) string {
	if d <= 0 {
		return "never"
	}
	return views.Span(d, "never")
}

// ownIdle writes a policy's own idle timeout as parsePolicy reads it.
func ownIdle(p store.TenantPolicy) string {
	switch {
	case p.Idle == nil:
		return ""
	case *p.Idle == 0:
		return "never"
	}
	s := p.Idle.String() // "2h0m0s", "1h30m0s", "45m0s", "1m30s"
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = strings.TrimSuffix(t+"m", "h0m")
		if !strings.HasSuffix(s, "m") {
			s += "h"
		}
	}
	return s
}
