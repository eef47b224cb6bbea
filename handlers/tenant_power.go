package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// PowerView is the view model of a tenant page's sleep controls for the
// signed-in user.
func PowerView(u *store.User, t *store.Tenant, csrf string) views.TenantPowerView {
	return views.TenantPowerView{
		ID: t.ID, State: t.State, CSRF: csrf,
		CanControl: canActOnTenant(u, t) && t.State != domain.StateExpired,
	}
}

func tenantPage(id string) string { return "/tenants/" + id }

// background runs a start or stop asked for from the portal: the page
// follows its progress, so the request does not wait for it.
func (p *Power) background(c echo.Context, what, id string, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), p.timeout())
	unhook := context.AfterFunc(p.Background, cancel)
	p.work.Add(1)
	go func() {
		defer p.work.Done()
		defer unhook()
		defer cancel()
		if err := fn(ctx); err != nil {
			p.H.Logger.Warn(what+" from the portal failed", "tenant", id, "err", err)
		}
	}()
}

func (p *Power) passivateForm(c echo.Context) error {
	u := CurrentUser(c)
	t, err := p.controllable(c.Request().Context(), u, c.Param("id"), domain.ActionPassivate)
	if err != nil {
		return err
	}
	p.background(c, "passivate", t.ID, func(ctx context.Context) error {
		return p.Tenants.Passivate(ctx, t.ID, "asked by "+u.Email)
	})
	if err := p.H.Flash(c, "Stopping "+t.Slug+". Its data is kept; the next visit starts it again."); err != nil {
		return err
	}
	return web.Redirect(c, tenantPage(t.ID))
}

func (p *Power) activateForm(c echo.Context) error {
	t, err := p.controllable(c.Request().Context(), CurrentUser(c), c.Param("id"), domain.ActionActivate)
	if err != nil {
		return err
	}
	p.background(c, "activate", t.ID, func(ctx context.Context) error { return p.Tenants.Activate(ctx, t.ID) })
	if err := p.H.Flash(c, "Starting "+t.Slug+"…"); err != nil {
		return err
	}
	return web.Redirect(c, tenantPage(t.ID))
}

func (p *Power) environmentsPage(c echo.Context) error {
	envs, err := p.environments(c.Request().Context())
	if err != nil {
		return err
	}
	rows := make([]views.AdminEnvironmentRow, 0, len(envs))
	for _, e := range p.Catalog.Environments {
		row := views.AdminEnvironmentRow{ID: e.ID, Name: e.Name, TTL: e.TTL, IdleTimeout: e.IdleTimeout, PauseAfter: e.PauseAfter}
		for _, j := range envs {
			if j.ID == e.ID {
				row.PauseEnabled = j.PauseEnabled
				row.BackupEveryHours, row.BackupKeep = j.BackupEveryHours, j.BackupKeep
			}
		}
		rows = append(rows, row)
	}
	page := p.H.Server.PageFor(c, "Environments")
	page.Nav = "admin"
	return web.Render(c, http.StatusOK, views.AdminEnvironmentsPage(page, rows))
}

func (p *Power) environmentForm(c echo.Context) error {
	id := c.Param("id")
	e, ok := p.Catalog.Environment(id)
	if !ok {
		return apperr.New(apperr.NotFound, "Environment not found.")
	}
	enabled, err := strconv.ParseBool(c.FormValue("pause_enabled"))
	if err != nil {
		return apperr.FieldError(apperr.Invalid, "pause_enabled", "Choose on or off.")
	}
	if err := p.H.DB.SetPauseEnabled(c.Request().Context(), id, enabled); err != nil {
		return err
	}
	state := "off"
	if enabled {
		state = "on"
	}
	if err := p.H.Flash(c, "Pause tier of "+e.Name+" turned "+state+"."); err != nil {
		return err
	}
	return web.Redirect(c, "/admin/environments")
}
