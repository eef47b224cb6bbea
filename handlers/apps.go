package handlers

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// registerApps installs the apps pages, the wizard and the apps and
// components API.
func (h *Handlers) registerApps(e *echo.Echo) {
	g := e.Group("/apps", h.RequireUser)
	g.GET("", h.appsIndex)
	h.registerWizard(g)
	g.GET("/:id", h.appShow)
	g.GET("/:id/edit", h.appEditPage)
	g.POST("/:id/edit", h.appNewVersion)
	g.POST("/:id/duplicate", h.appDuplicate)
	g.POST("/:id/delete", h.appDelete)
	g.POST("/:id/deploy", h.appDeploy)
	h.registerAppsAPI(e)
}

// appsIndex is "My apps": drafts with a Resume link, then finished apps.
func (h *Handlers) appsIndex(c echo.Context) error {
	u := CurrentUser(c)
	apps, err := h.DB.AppsOfOwner(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	page := h.Server.PageFor(c, "My apps")
	page.Nav = "apps"
	p := views.AppsPage{Page: page, Apps: views.AppsListData{CSRF: page.CSRF}}
	for i := range apps {
		row := h.appRow(&apps[i])
		if apps[i].IsDraft() {
			p.Drafts = append(p.Drafts, row)
		} else {
			p.Apps.Apps = append(p.Apps.Apps, row)
		}
	}
	mine, err := h.myTenants(c.Request().Context(), c, u)
	if err != nil {
		return err
	}
	p.Deployments = views.MyTenantsPanel(mine)
	return web.Render(c, http.StatusOK, views.AppsIndex(p))
}

// readableApp loads an app the signed-in user may see: their own, or any
// for sales and admins. Anyone else's is not found.
func (h *Handlers) readableApp(ctx context.Context, u *store.User, id string) (*store.App, error) {
	if u.IsStaff() {
		return h.DB.AppByID(ctx, id)
	}
	return h.DB.AppOfOwner(ctx, id, u.ID)
}

// appShow is the page of an app: its assembly and what its owner can do.
func (h *Handlers) appShow(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	a, err := h.readableApp(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	sum, err := h.appSummary(ctx, a)
	if err != nil {
		return err
	}
	page := h.Server.PageFor(c, sum.DisplayName())
	page.Nav = "apps"
	p := views.AppPage{Page: page, App: sum, Step: a.Step, IsOwner: a.OwnerID == u.ID}
	if !a.IsDraft() {
		d, err := h.deploymentsView(ctx, u, a)
		if err != nil {
			return err
		}
		p.Deployments = views.AppDeployments(d)
	}
	return web.Render(c, http.StatusOK, views.AppShow(p))
}

// appEditPage sends a draft to its wizard and a finished app to its page,
// where it can be edited into a new version.
func (h *Handlers) appEditPage(c echo.Context) error {
	a, err := h.ownApp(c)
	if err != nil {
		return err
	}
	if a.IsDraft() {
		return web.Redirect(c, views.StepURL(a.ID, a.Step))
	}
	return web.Redirect(c, "/apps/"+a.ID)
}

// appNewVersion edits a finished app into a new version: a draft of the
// next revision, under the same name, that starts at the first step. The
// finished app and its deployments stay as they are.
func (h *Handlers) appNewVersion(c echo.Context) error {
	a, err := h.ownApp(c)
	if err != nil {
		return err
	}
	if a.IsDraft() {
		return web.Redirect(c, views.StepURL(a.ID, a.Step))
	}
	v, err := h.DB.CopyApp(c.Request().Context(), a, "", true)
	if err != nil {
		return err
	}
	return web.Redirect(c, views.StepURL(v.ID, views.StepPlatform))
}

// appDuplicate copies an app into a new draft named "Copy of ...".
func (h *Handlers) appDuplicate(c echo.Context) error {
	a, err := h.ownApp(c)
	if err != nil {
		return err
	}
	name := "Copy of " + a.Name
	for utf8.RuneCountInString(name) > catalog.MaxNameLength {
		r := []rune(name)
		name = string(r[:catalog.MaxNameLength])
	}
	d, err := h.DB.CopyApp(c.Request().Context(), a, name, false)
	if err != nil {
		return err
	}
	return web.Redirect(c, views.StepURL(d.ID, views.StepPlatform))
}

// appDelete deletes an app without live deployments.
func (h *Handlers) appDelete(c echo.Context) error {
	if err := h.DB.DeleteApp(c.Request().Context(), c.Param("id"), CurrentUser(c).ID); err != nil {
		return err
	}
	return web.Redirect(c, "/apps")
}

// appDeploy deploys an app that passes every check: the app is saved
// finished, at the review step, with its new deployment.
func (h *Handlers) appDeploy(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	a, err := h.ownApp(c)
	if err != nil {
		return err
	}
	errs, err := h.validateApp(ctx, a, false)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		st := &stepState{app: a, step: views.StepReview, formError: "This app cannot be deployed yet."}
		return h.renderStep(c, st, http.StatusUnprocessableEntity)
	}
	a.Step = views.StepReview
	if err := h.mayDeploy(u); err != nil {
		st := &stepState{app: a, step: views.StepReview, formError: apperr.Message(err)}
		return h.renderStep(c, st, http.StatusForbidden)
	}
	tenantID, err := h.Deployer.Deploy(ctx, a, u)
	if err != nil {
		if apperr.Code(err) != apperr.Internal {
			st := &stepState{app: a, step: views.StepReview, formError: apperr.Message(err)}
			return h.renderStep(c, st, statusOf(err))
		}
		return err
	}
	return web.Redirect(c, "/tenants/"+tenantID)
}

// appRow is an app as lists show it, with the catalog's names for its
// platform and environment (the ids where the catalog no longer has them).
func (h *Handlers) appRow(a *store.App) views.AppRow {
	platform, env := a.Platform, a.Environment
	if p, ok := h.Catalog.Platform(a.Platform); ok {
		platform = p.Name
	}
	if e, ok := h.Catalog.Environment(a.Environment); ok {
		env = e.Name
	}
	return views.AppRow{ID: a.ID, Name: a.Name, Status: a.Status, Revision: a.Revision, Platform: strings.TrimSpace(platform + " " + a.Version),
		Environment: env, Updated: timeText(a.UpdatedAt.Time), Step: a.Step}
}

// appSummary is the whole assembly of an app in words.
func (h *Handlers) appSummary(ctx context.Context, a *store.App) (views.AppSummary, error) {
	s := views.AppSummary{ID: a.ID, Name: a.Name, Status: a.Status, Revision: a.Revision, ParentID: a.ParentID.String,
		Platform: a.Platform, Version: a.Version, Environment: a.Environment, Replicas: a.Replicas,
		Created: timeText(a.CreatedAt.Time), Updated: timeText(a.UpdatedAt.Time), DeployRequested: timeText(a.DeployRequestedAt.Time),
		IsTemplate: a.IsTemplate}
	if p, ok := h.Catalog.Platform(a.Platform); ok {
		s.Platform = p.Name
		if v, ok := p.Version(a.Version); ok {
			s.Version, s.LTS = v.Version, v.LTS
		}
		for _, id := range a.Components() {
			if comp, ok := p.Component(id); ok {
				s.Components = append(s.Components, comp.Name)
			} else {
				s.Components = append(s.Components, id)
			}
		}
	} else {
		s.Components = a.Components()
	}
	if e, ok := h.Catalog.Environment(a.Environment); ok {
		s.Environment, s.EnvDetails = e.Name, envDetails(e)
	}
	custom, err := h.ownedComponents(ctx, a)
	if err != nil {
		return s, err
	}
	for _, cc := range custom {
		s.Custom = append(s.Custom, views.CustomSummary{Name: cc.Name, Version: cc.Version, SHA256: cc.SHA256})
	}
	m := a.Model()
	s.Title, s.Color = m.Title, m.Color
	for _, d := range m.Doctypes {
		ds := views.DoctypeSummary{Name: d.Name}
		for _, f := range d.Fields {
			ds.Fields = append(ds.Fields, views.FieldSummary{Name: f.Name, Type: f.Type, Choices: f.Choices})
		}
		s.Doctypes = append(s.Doctypes, ds)
	}
	return s, nil
}

// ownedComponents returns the app's custom components that its owner
// uploaded, leaving out any other id (which validation refuses anyway).
func (h *Handlers) ownedComponents(ctx context.Context, a *store.App) ([]store.CustomComponent, error) {
	var out []store.CustomComponent
	for _, id := range a.CustomComponents() {
		cc, err := h.DB.CustomComponentOfOwner(ctx, id, a.OwnerID)
		if apperr.Code(err) == apperr.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *cc)
	}
	return out, nil
}

// statusOf is the HTTP status of an error.
func statusOf(err error) int { return web.Status(apperr.Code(err)) }

// errorText is what a user may read of an error.
func errorText(err error) string { return apperr.Message(err) }
