package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// tenantEvents is how many events a deployment page shows (the latest).
const tenantEvents = 60

// buildTailLines is how much of the build output a deployment page shows.
const buildTailLines = 40

// registerTenants installs the deployment pages and API.
func (h *Handlers) registerTenants(e *echo.Echo) {
	g := e.Group("/tenants", h.RequireUser)
	g.GET("/:id", h.tenantShow)
	g.GET("/:id/progress", h.tenantProgress)
	g.POST("/:id/delete", h.tenantDelete)
	g.POST("/:id/restart", h.tenantRestart)
	g.POST("/:id/upgrade", h.tenantUpgrade)
	g.POST("/:id/policy", h.tenantPolicyForm)
	e.GET("/apps/:id/deployments", h.appDeploymentsPartial, h.RequireUser)
	h.registerTenantsAPI(e)
	h.registerBackups(g)
	h.registerBackupsAPI(e)
	h.registerBackupSchedules(e)
}

// tenantView makes a deployment's view model: facts, events (newest
// first), the tail of its latest build, and the actions the user may take.
func (h *Handlers) tenantView(ctx context.Context, u *store.User, t *store.Tenant, csrf string) (views.TenantView, error) {
	v := views.TenantView{
		ID: t.ID, Slug: t.Slug, Title: t.Title, AppID: t.AppID, AppName: "App",
		State: t.State, DesiredState: t.DesiredState, StateMessage: t.StateMessage,
		Platform: t.Platform, Version: t.Version, Environment: t.Environment, Replicas: t.Replicas,
		Generation: t.Generation, Created: timeText(t.CreatedAt.Time), Expires: timeText(t.ExpiresAt.Time),
		LastActive: timeText(t.LastActiveAt.Time), Settled: t.Settled(), CanAct: canActOnTenant(u, t), CSRF: csrf,
	}
	v.Power = PowerView(u, t, csrf)
	v.URL = h.Orchestrator.TenantURL(t.Slug)
	facts := h.tenantFacts(u, t)
	v.CanRestart = domain.Refusal(facts, domain.ActionRestart) == ""
	for _, ver := range h.Orchestrator.UpgradeVersions(t) {
		if domain.Refusal(facts, domain.ActionUpgrade) != "" {
			break
		}
		label := ver.Label
		if label == "" {
			label = ver.Version
		}
		v.Versions = append(v.Versions, views.UpgradeOption{Version: ver.Version, Label: label})
	}
	if p, ok := h.Catalog.Platform(t.Platform); ok {
		v.Platform = p.Name
	}
	if e, ok := h.Catalog.Environment(t.Environment); ok {
		v.Environment = e.Name
	}
	if a, err := h.DB.AppByID(ctx, t.AppID); err == nil {
		v.AppName = a.Name
	}
	evs, err := h.DB.ListEvents(ctx, t.ID, 0, tenantEvents)
	if err != nil {
		return v, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		v.Events = append(v.Events, views.EventView{At: evs[i].At.UTC().Format("15:04:05"), Kind: evs[i].Kind, Message: evs[i].Message})
	}
	b, err := h.DB.LastBuild(ctx, t.ID)
	if err != nil {
		return v, err
	}
	if b != nil {
		v.Build = &views.BuildView{Tag: b.Tag, Result: b.Result,
			Tail: lastLines(b.Log, buildTailLines)}
	}
	return v, nil
}

// tenantShow is the page of a deployment.
func (h *Handlers) tenantShow(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), false)
	if err != nil {
		return err
	}
	if t.OwnerID == u.ID && !web.GetHTMX(c).Partial() {
		h.warm(t, "its owner opened its page")
	}
	page := h.Server.PageFor(c, t.Title)
	page.Nav = "apps"
	v, err := h.tenantView(ctx, u, t, page.CSRF)
	if err != nil {
		return err
	}
	full := web.Deferred(func() (templ.Component, error) {
		mon, err := h.tenantMonitoring(ctx, u, t)
		if err != nil {
			return nil, err
		}
		tp := views.TenantPage{Page: page, Tenant: v, Monitoring: mon}
		if tp.Sleep, err = h.sleepView(ctx, u, t, page.CSRF); err != nil {
			return nil, err
		}
		if t.DesiredState != domain.DesiredDeleted {
			bv, err := h.backupsView(ctx, u, t, page.CSRF)
			if err != nil {
				return nil, err
			}
			tp.Backups = &bv
		}
		return views.TenantShow(tp), nil
	})
	return web.RenderEither(c, http.StatusOK, full, views.TenantProgress(v))
}

// tenantProgress is the partial the page polls while the state changes.
func (h *Handlers) tenantProgress(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), false)
	if err != nil {
		return err
	}
	v, err := h.tenantView(ctx, u, t, "")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.TenantProgress(v))
}

// tenantOp is one change to a deployment; the API and the page forms run
// the same ones.
type tenantOp func(ctx context.Context, o Orchestrator, t *store.Tenant, u *store.User) error

func deleteTenant(ctx context.Context, o Orchestrator, t *store.Tenant, u *store.User) error {
	return o.Delete(ctx, t, u)
}

func restartTenant(ctx context.Context, o Orchestrator, t *store.Tenant, u *store.User) error {
	return o.Restart(ctx, t, u)
}

// upgradeTenant upgrades a tenant and, the upgrade confirmed, starts it
// if it slept, so that the new version is ready when it is opened.
func (h *Handlers) upgradeTenant(version string) tenantOp {
	return func(ctx context.Context, o Orchestrator, t *store.Tenant, u *store.User) error {
		if err := o.Upgrade(ctx, t, u, version); err != nil {
			return err
		}
		h.warm(t, "its upgrade to "+version+" was confirmed")
		return nil
	}
}

// actOnTenant runs op on the deployment of the request's id, if the user
// may act on it, and returns the deployment as it was looked up.
func (h *Handlers) actOnTenant(c echo.Context, action string, op tenantOp) (*store.Tenant, error) {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	o := h.Orchestrator
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return nil, err
	}
	if err := h.allow(u, t, action); err != nil {
		return nil, err
	}
	if err := op(ctx, o, t, u); err != nil {
		return nil, err
	}
	return t, nil
}

// tenantFormAction runs a change from a page form, then shows the
// deployment's page again (where its progress follows).
func (h *Handlers) tenantFormAction(c echo.Context, action string, op tenantOp) error {
	t, err := h.actOnTenant(c, action, op)
	if err != nil {
		return err
	}
	return web.Redirect(c, "/tenants/"+t.ID)
}

func (h *Handlers) tenantDelete(c echo.Context) error {
	return h.tenantFormAction(c, domain.ActionDelete, deleteTenant)
}

func (h *Handlers) tenantRestart(c echo.Context) error {
	return h.tenantFormAction(c, domain.ActionRestart, restartTenant)
}

func (h *Handlers) tenantUpgrade(c echo.Context) error {
	return h.tenantFormAction(c, domain.ActionUpgrade, h.upgradeTenant(c.FormValue("version")))
}

// deploymentsView lists an app's deployments that the user may see.
func (h *Handlers) deploymentsView(ctx context.Context, u *store.User, a *store.App) (views.DeploymentsView, error) {
	ts, err := h.DB.ListTenants(ctx, store.TenantFilter{AppID: a.ID})
	if err != nil {
		return views.DeploymentsView{AppID: a.ID}, err
	}
	d := h.deploymentRows(u, ts, map[string]string{a.ID: a.Name})
	d.AppID = a.ID
	return d, nil
}

// deploymentRows makes the rows of the deployments the user may see.
func (h *Handlers) deploymentRows(u *store.User, ts []store.Tenant, appNames map[string]string) views.DeploymentsView {
	var d views.DeploymentsView
	for i := range ts {
		t := &ts[i]
		if !canViewTenant(u, t) {
			continue
		}
		row := views.DeploymentRow{ID: t.ID, Slug: t.Slug, AppID: t.AppID, AppName: appNames[t.AppID],
			State: t.State, StateMessage: t.StateMessage, Environment: t.Environment, Version: t.Version,
			Created: timeText(t.CreatedAt.Time),
			Serving: t.DesiredState != domain.DesiredDeleted &&
				(t.State == domain.StateRunning || t.State == domain.StatePaused || t.State == domain.StatePassivated)}
		row.URL = h.Orchestrator.TenantURL(t.Slug)
		if !t.Settled() {
			d.Poll = true
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

// appDeploymentsPartial is the app page's deployments list, polled while a
// deployment is in progress.
func (h *Handlers) appDeploymentsPartial(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	a, err := h.readableApp(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	d, err := h.deploymentsView(ctx, u, a)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.AppDeployments(d))
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
