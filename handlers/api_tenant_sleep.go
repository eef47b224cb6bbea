package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
)

// PolicyInput is a tenant's own sleep policy as the API takes it and
// shows it: empty fields keep the environment's defaults.
type PolicyInput struct {
	// IdleTimeout is "" (the environment's), "never", or a duration like "45m".
	IdleTimeout string `json:"idle_timeout"`
	// Pause is "" (the environment's), "on" or "off".
	Pause string `json:"pause"`
	// KeepWarm lists windows like "mon-fri 09:00-18:00 Europe/Paris", ";" between.
	KeepWarm string `json:"keep_warm"`
}

// PolicyJSON is how a tenant sleeps: what applies now, and what of it is
// the tenant's own.
type PolicyJSON struct {
	// IdleTimeout is the effective idle timeout ("30m0s", or "never").
	IdleTimeout string `json:"idle_timeout"`
	// PauseAfter is the effective pause delay ("2m0s", or "off").
	PauseAfter       string      `json:"pause_after"`
	KeepWarm         string      `json:"keep_warm"`
	InKeepWarmWindow bool        `json:"in_keep_warm_window"`
	Own              PolicyInput `json:"own"`
}

// ActivityJSON is a tenant's latest real request.
type ActivityJSON struct {
	At      time.Time `json:"at"`
	Request string    `json:"request,omitempty"`
}

// ColdStartJSON is one start of a tenant from sleep.
type ColdStartJSON struct {
	At      time.Time `json:"at"`
	Seconds float64   `json:"seconds"`
	WokenBy string    `json:"woken_by"`
}

func policyJSON(f sleepFacts) PolicyJSON {
	e := f.Effective
	j := PolicyJSON{IdleTimeout: "never", PauseAfter: "off", KeepWarm: e.KeepWarm.String(), InKeepWarmWindow: e.InWindow,
		Own: PolicyInput{IdleTimeout: ownIdle(f.Policy), Pause: f.Policy.Pause, KeepWarm: f.Policy.KeepWarm}}
	if e.Idle > 0 {
		j.IdleTimeout = e.Idle.String()
	}
	if e.Pause > 0 {
		j.PauseAfter = e.Pause.String()
	}
	return j
}

// wakeJSON is why a tenant is awake, over the last 7 days.
func wakeJSON(f sleepFacts, lastActive time.Time, lastRequest string) *WakeJSON {
	w := &WakeJSON{ColdStarts: f.Wake.ColdStarts, LastWokenBy: f.Wake.LastWokenBy, ColdStarts7d: []ColdStartJSON{},
		AsleepShare7d: f.Report.AsleepShare(), AwakeSeconds7d: f.Report.Awake.Seconds(), UnusedSeconds7d: f.Report.Unused.Seconds()}
	if at := f.Wake.LastWokenAt.Time; !at.IsZero() {
		w.LastWokenAt = &at
	}
	if !lastActive.IsZero() {
		w.LastActivity = &ActivityJSON{At: lastActive, Request: lastRequest}
	}
	for _, c := range f.Report.ColdStarts {
		w.ColdStarts7d = append(w.ColdStarts7d, ColdStartJSON{At: c.At.Time, Seconds: c.Seconds, WokenBy: c.WokenBy})
	}
	return w
}

// apiTenantPolicy shows how a tenant sleeps, to anyone who sees it.
func (h *Handlers) apiTenantPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.tenantFor(ctx, CurrentUser(c), c.Param("id"), false)
	if err != nil {
		return err
	}
	f, err := h.sleepFacts(ctx, t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"policy": policyJSON(f)})
}

// apiSetTenantPolicy sets a tenant's own sleep policy (staff only); the
// passivator applies it on its next check.
func (h *Handlers) apiSetTenantPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.policyEditable(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	var in PolicyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, errs := parsePolicy(in.IdleTimeout, in.Pause, in.KeepWarm)
	for _, field := range []string{"idle_timeout", "pause", "keep_warm"} {
		if msg := errs[field]; msg != "" {
			return apperr.FieldError(apperr.Unprocessable, field, "%s", msg)
		}
	}
	if err := h.DB.SetTenantPolicy(ctx, t.ID, p, u.Email); err != nil {
		return err
	}
	h.Logger.Info("tenant sleep policy set", "tenant", t.Slug, "by", u.ID)
	return h.apiTenantPolicy(c)
}
