package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/store"
)

// TenantPower starts and stops tenants on request: the reconciler.
type TenantPower interface {
	Activate(ctx context.Context, tenantID string) error
	Passivate(ctx context.Context, tenantID, reason string) error
	// Pause freezes a running tenant (or stops it where the runtime cannot pause).
	Pause(ctx context.Context, tenantID string) error
}

// TrialExtender lengthens trials: the passivator.
type TrialExtender interface {
	Extend(ctx context.Context, tenantID string, days int) (time.Time, error)
}

// Power serves the manual sleep controls: passivate and activate a tenant,
// extend a trial, and the admin's per-environment pause setting.
type Power struct {
	H       *Handlers
	Tenants TenantPower
	Trials  TrialExtender
	Catalog *catalog.Catalog
	// Background is serve's context: a start or stop asked for from the
	// portal goes on after its request until it ends or Background does.
	Background context.Context
	// Timeout bounds a start or stop asked for from the portal, which
	// goes on after the redirect (default 2 minutes).
	Timeout time.Duration

	// work tracks the starts and stops still running after their request.
	work sync.WaitGroup
}

// timeout is Timeout, or its default.
func (p *Power) timeout() time.Duration {
	if p.Timeout <= 0 {
		return 2 * time.Minute
	}
	return p.Timeout
}

// Wait waits for the starts and stops asked for from the portal to end:
// serve calls it once Background is cancelled, before the database
// closes under them.
func (p *Power) Wait() { p.work.Wait() }

// Register installs the API and portal routes.
func (p *Power) Register(e *echo.Echo) {
	api := e.Group("/api/v1", p.H.APIAuth)
	api.POST("/tenants/:id/passivate", p.apiPassivate)
	api.POST("/tenants/:id/activate", p.apiActivate)
	api.POST("/tenants/:id/pause", p.apiPause)
	api.POST("/tenants/:id/extend", p.apiExtend)
	api.GET("/admin/environments", p.apiEnvironments, p.H.RequireRole(store.RoleAdmin))
	api.PUT("/admin/environments/:id", p.apiSetEnvironment, p.H.RequireRole(store.RoleAdmin))

	t := e.Group("/tenants", p.H.RequireUser)
	t.POST("/:id/passivate", p.passivateForm)
	t.POST("/:id/activate", p.activateForm)
	a := e.Group("/admin/environments", p.H.RequireRole(store.RoleAdmin))
	a.GET("", p.environmentsPage)
	a.POST("/:id", p.environmentForm)
}

// controllable loads a tenant the user may start and stop: the owner's,
// a sales person's own demos, any for admins (as every deployment action).
// One the user cannot see is not found; one they only see is forbidden.
// An action its state does not allow is a conflict.
func (p *Power) controllable(ctx context.Context, u *store.User, id, action string) (*store.Tenant, error) {
	t, err := p.H.tenantFor(ctx, u, id, true)
	if err != nil {
		return nil, err
	}
	if t.DesiredState == domain.DesiredDeleted {
		return nil, apperr.New(apperr.NotFound, "Deployment not found.")
	}
	if err := p.H.allow(u, t, action); err != nil {
		return nil, err
	}
	return t, nil
}

// extendable loads a trial the user may extend: sales people and admins
// only; its owner is told so, anyone else finds nothing.
func (p *Power) extendable(ctx context.Context, u *store.User, id string) (*store.Tenant, error) {
	t, err := p.H.tenantFor(ctx, u, id, false)
	if err != nil {
		return nil, err
	}
	if t.DesiredState == domain.DesiredDeleted {
		return nil, apperr.New(apperr.NotFound, "Deployment not found.")
	}
	if !u.IsStaff() {
		return nil, apperr.New(apperr.Forbidden, "Ask your contact to extend this trial.")
	}
	if err := p.H.allow(u, t, domain.ActionExtend); err != nil {
		return nil, err
	}
	return t, nil
}

// PowerJSON is the API's answer to a power operation.
type PowerJSON struct {
	ID           string     `json:"id"`
	Slug         string     `json:"slug"`
	State        string     `json:"state"`
	DesiredState string     `json:"desired_state"`
	Message      string     `json:"message,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	// Actions are the actions the user may ask of the tenant now.
	Actions []string `json:"actions"`
}

func (p *Power) answer(c echo.Context, status int, id string) error {
	t, err := p.H.DB.TenantByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := PowerJSON{ID: t.ID, Slug: t.Slug, State: t.State, DesiredState: t.DesiredState, Message: t.StateMessage,
		Actions: p.H.tenantActions(CurrentUser(c), t)}
	if e := t.ExpiresAt.Time; !e.IsZero() {
		out.ExpiresAt = &e
	}
	return c.JSON(status, out)
}

func refuseExpired(t *store.Tenant) error {
	if t.State == domain.StateExpired {
		return apperr.New(apperr.Conflict, "This trial has expired: extend it before starting it.")
	}
	return nil
}

// apiPassivate stops a tenant now (volumes kept) and answers once it is stopped.
func (p *Power) apiPassivate(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := p.controllable(ctx, u, c.Param("id"), domain.ActionPassivate)
	if err != nil {
		return err
	}
	if err := p.Tenants.Passivate(ctx, t.ID, "asked by "+u.Email); err != nil {
		return err
	}
	return p.answer(c, http.StatusOK, t.ID)
}

// apiActivate starts a tenant and answers once it serves.
func (p *Power) apiActivate(c echo.Context) error {
	return p.wake(c, domain.ActionActivate, p.Tenants.Activate)
}

// apiPause freezes a running tenant now (the pause tier: its next request
// resumes it in milliseconds) and answers once it is paused.
func (p *Power) apiPause(c echo.Context) error { return p.wake(c, domain.ActionPause, p.Tenants.Pause) }

// wake runs a change that keeps the tenant alive (a start, a pause) on a
// tenant the user controls and whose trial has not expired, and answers
// with the tenant once it is done.
func (p *Power) wake(c echo.Context, action string, change func(ctx context.Context, tenantID string) error) error {
	ctx := c.Request().Context()
	t, err := p.controllable(ctx, CurrentUser(c), c.Param("id"), action)
	if err != nil {
		return err
	}
	if err := change(ctx, t.ID); err != nil {
		return err
	}
	return p.answer(c, http.StatusOK, t.ID)
}

// ExtendJSON is the body of POST /api/v1/tenants/{id}/extend.
type ExtendJSON struct {
	Days int `json:"days"`
}

func (p *Power) apiExtend(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := p.extendable(ctx, CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	var body ExtendJSON
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if err := validDays(body.Days); err != nil {
		return err
	}
	if _, err := p.Trials.Extend(ctx, t.ID, body.Days); err != nil {
		return err
	}
	return p.answer(c, http.StatusOK, t.ID)
}

// maxExtendDays bounds one extension of a trial.
const maxExtendDays = 365

func validDays(days int) error {
	if days < 1 || days > maxExtendDays {
		return apperr.FieldError(apperr.Invalid, "days", "Extend by 1 to %d days.", maxExtendDays)
	}
	return nil
}

// EnvironmentJSON is an environment's sleep settings.
type EnvironmentJSON struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	TTLSeconds         int64  `json:"ttl_seconds"`
	IdleTimeoutSeconds int64  `json:"idle_timeout_seconds"`
	PauseAfterSeconds  int64  `json:"pause_after_seconds"`
	PauseEnabled       bool   `json:"pause_enabled"`
	// BackupEveryHours is the period of scheduled backups (0: none);
	// BackupKeep how many scheduled backups of a tenant are kept.
	BackupEveryHours int `json:"backup_every_hours"`
	BackupKeep       int `json:"backup_keep"`
}

func (p *Power) environments(ctx context.Context) ([]EnvironmentJSON, error) {
	settings, err := p.H.DB.EnvSettings(ctx)
	if err != nil {
		return nil, err
	}
	schedules, err := p.H.DB.BackupSchedules(ctx)
	if err != nil {
		return nil, err
	}
	var out []EnvironmentJSON
	for _, e := range p.Catalog.Environments {
		enabled := true
		if s, ok := settings[e.ID]; ok {
			enabled = s.PauseEnabled
		}
		sched, ok := schedules[e.ID]
		if !ok {
			sched.Keep = store.DefaultBackupKeep
		}
		out = append(out, EnvironmentJSON{ID: e.ID, Name: e.Name, TTLSeconds: int64(e.TTL / time.Second),
			IdleTimeoutSeconds: int64(e.IdleTimeout / time.Second), PauseAfterSeconds: int64(e.PauseAfter / time.Second),
			PauseEnabled: enabled, BackupEveryHours: sched.EveryHours, BackupKeep: sched.Keep})
	}
	return out, nil
}

func (p *Power) apiEnvironments(c echo.Context) error {
	envs, err := p.environments(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"environments": envs})
}

// EnvironmentSettingJSON is the body of PUT /api/v1/admin/environments/{id}.
type EnvironmentSettingJSON struct {
	PauseEnabled     *bool `json:"pause_enabled"`
	BackupEveryHours *int  `json:"backup_every_hours"`
	BackupKeep       *int  `json:"backup_keep"`
}

func (p *Power) apiSetEnvironment(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, ok := p.Catalog.Environment(id); !ok {
		return apperr.New(apperr.NotFound, "Environment not found.")
	}
	var body EnvironmentSettingJSON
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.PauseEnabled == nil && body.BackupEveryHours == nil && body.BackupKeep == nil {
		return apperr.FieldError(apperr.Invalid, "pause_enabled", "Give pause_enabled (true or false), or backup_every_hours and backup_keep.")
	}
	envs, err := p.environments(ctx)
	if err != nil {
		return err
	}
	if body.BackupEveryHours != nil || body.BackupKeep != nil {
		sched := store.BackupSchedule{Environment: id}
		for _, e := range envs {
			if e.ID == id {
				sched.EveryHours, sched.Keep = e.BackupEveryHours, e.BackupKeep
			}
		}
		if body.BackupEveryHours != nil {
			sched.EveryHours = *body.BackupEveryHours
		}
		if body.BackupKeep != nil {
			sched.Keep = *body.BackupKeep
		}
		if err := validSchedule(sched); err != nil {
			return err
		}
		if err := p.H.DB.SetBackupSchedule(ctx, sched); err != nil {
			return err
		}
	}
	if body.PauseEnabled != nil {
		if err := p.H.DB.SetPauseEnabled(ctx, id, *body.PauseEnabled); err != nil {
			return err
		}
	}
	envs, err = p.environments(ctx)
	if err != nil {
		return err
	}
	for _, e := range envs {
		if e.ID == id {
			return c.JSON(http.StatusOK, e)
		}
	}
	return apperr.New(apperr.NotFound, "Environment not found.")
}
