package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/mail"
	"appfactory/orchestrator"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// inviteTTL is how long an invitation link of a new prospect works.
const inviteTTL = 14 * 24 * time.Hour

// engagementWindow is the period of the sign-ins and requests the sales view counts.
const engagementWindow = 7 * 24 * time.Hour

// trialExtender lengthens a tenant's trial.
type trialExtender interface {
	Extend(ctx context.Context, tenantID string, days int) (time.Time, error)
}

// registerSales installs the sales view, demos, invitations and templates.
func (h *Handlers) registerSales(e *echo.Echo) {
	e.GET("/sales", h.salesPage)
	e.POST("/sales/demos", h.createDemo)
	e.POST("/sales/tenants/:id/extend", h.extendTrial)
	e.POST("/sales/prospects/:id/invite", h.reinvite)
	e.POST("/apps/:id/template", h.markTemplate)
	e.GET("/invite/:token", h.invitePage)
	e.POST("/invite/:token", h.acceptInvite)
}

// salesView loads the templates and the prospects of the request's query.
func (h *Handlers) salesView(c echo.Context) (views.SalesPage, error) {
	ctx := c.Request().Context()
	var v views.SalesPage
	tpls, err := h.DB.TemplateApps(ctx)
	if err != nil {
		return v, err
	}
	for _, a := range tpls {
		v.Templates = append(v.Templates, views.TemplateRow{ID: a.ID, Name: a.Name, Platform: a.Platform, Version: a.Version, Environment: a.Environment})
	}
	v.Prospects, err = h.prospectList(c)
	return v, err
}

// prospectList ranks the prospects and lists their deployments.
func (h *Handlers) prospectList(c echo.Context) (views.ProspectList, error) {
	ctx := c.Request().Context()
	now := h.DB.Now()
	l := views.ProspectList{Search: c.QueryParam("q"), Sort: c.QueryParam("sort"), Now: now, CSRF: CSRFToken(c)}
	if l.Sort == "" {
		l.Sort = store.ProspectsEngaged
	}
	ps, err := h.DB.ListProspects(ctx, store.ProspectQuery{Search: l.Search, Sort: l.Sort, Since: now.Add(-engagementWindow)})
	if err != nil {
		return l, err
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	tenants, err := h.DB.ProspectTenants(ctx, ids)
	if err != nil {
		return l, err
	}
	byOwner := map[string][]views.ProspectTenant{}
	for _, t := range tenants {
		byOwner[t.OwnerID] = append(byOwner[t.OwnerID], views.ProspectTenant{ID: t.ID, Slug: t.Slug, URL: h.tenantURL(c, t.Slug),
			AppName: t.AppName, State: t.State, Environment: t.Environment, Expires: t.ExpiresAt.Time})
	}
	for _, p := range ps {
		l.Rows = append(l.Rows, views.ProspectRow{ID: p.ID, Name: p.Name, Email: p.Email, Company: p.Company,
			Created: p.CreatedAt.Time, LastSeen: p.LastSeen(), Apps: p.Apps, Logins: p.Logins, Requests: p.Requests,
			Invited: p.Invited, Tenants: byOwner[p.ID]})
	}
	return l, nil
}

func (h *Handlers) renderSales(c echo.Context, status int, v views.SalesPage) error {
	return web.Render(c, status, h.salesComponent(c, v))
}

func (h *Handlers) salesComponent(c echo.Context, v views.SalesPage) templ.Component {
	p := h.Server.PageFor(c, "Sales")
	p.Nav = "sales"
	return views.SalesView(p, v)
}

func (h *Handlers) salesPage(c echo.Context) error {
	prospects := web.Deferred(func() (templ.Component, error) {
		l, err := h.prospectList(c)
		return views.ProspectsTable(l), err
	})
	page := web.Deferred(func() (templ.Component, error) {
		v, err := h.salesView(c)
		if err != nil {
			return nil, err
		}
		return h.salesComponent(c, v), nil
	})
	return web.RenderEither(c, http.StatusOK, page, web.Swap{Component: prospects, Target: "prospects"})
}

// createDemo copies a template into an app of the prospect (making the
// prospect's account if need be), deploys it on the demo environment on
// behalf of the sales person, and shows the link to share.
func (h *Handlers) createDemo(c echo.Context) error {
	f := views.DemoForm{TemplateID: c.FormValue("template"), Email: c.FormValue("email"), Name: c.FormValue("name"), Company: c.FormValue("company")}
	fail := func(err error) error {
		v, verr := h.salesView(c)
		if verr != nil {
			return verr
		}
		if err != nil {
			if apperr.Code(err) == apperr.Internal {
				return err
			}
			f.Apply(err)
		}
		v.Demo = f
		status := http.StatusUnprocessableEntity
		if err != nil {
			status = web.Status(apperr.Code(err))
		}
		return h.renderSales(c, status, v)
	}
	if !f.Validate() {
		return fail(nil)
	}
	d, err := h.demos().Create(c.Request().Context(), orchestrator.DemoRequest{TemplateID: f.TemplateID, Email: f.Email,
		Name: f.Name, Company: f.Company, Seller: CurrentUser(c), InviteTTL: inviteTTL})
	if err != nil {
		return fail(err)
	}
	h.mailDemo(c.Request().Context(), d, CurrentUser(c))
	res := &views.DemoResult{ProspectEmail: d.Prospect.Email, TenantID: d.Tenant.ID, Slug: d.Tenant.Slug, URL: h.tenantURL(c, d.Tenant.Slug)}
	if d.InviteToken != "" {
		res.InviteURL = portalBase(c) + "/invite/" + d.InviteToken
	}
	v, err := h.salesView(c)
	if err != nil {
		return err
	}
	v.Result = res
	return h.renderSales(c, http.StatusCreated, v)
}

// mailDemo tells the prospect of a new demo (with the invitation link of a
// new account). The demo stands without the mail: a failure is logged, and
// the sales page shows the links to share by hand.
func (h *Handlers) mailDemo(ctx context.Context, d *orchestrator.Demo, seller *store.User) {
	err := h.queueMail(ctx, mail.KindDemoShared, d.Prospect, func() (*store.OutboxMail, error) {
		return h.Mail.Composer.DemoShared(d.Prospect, d.Tenant, seller, d.InviteToken)
	})
	if err != nil {
		h.Logger.Error("mail a demo", "tenant", d.Tenant.ID, "err", err)
	}
}

// demos is the demo workflow over the handlers' database, catalog and
// deployer, hashing with the handlers' throttled hasher.
func (h *Handlers) demos() *orchestrator.Demos {
	return &orchestrator.Demos{DB: h.DB, Catalog: h.Catalog, Deployer: h.Deployer, HashPassword: h.hashPassword, Logger: h.Logger}
}

func (h *Handlers) extendTrial(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := strconv.Atoi(c.FormValue("days"))
	if err != nil || days < 1 || days > 365 {
		return apperr.FieldError(apperr.Invalid, "days", "Extend by 1 to 365 days.")
	}
	t, err := h.DB.TenantByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	until, err := h.Monitoring.Extender.Extend(ctx, t.ID, days)
	if err != nil {
		return err
	}
	h.Logger.Info("trial extended", slog.String("tenant", t.ID), slog.Int("days", days), slog.String("by", CurrentUser(c).ID))
	if err := h.Flash(c, fmt.Sprintf("The trial of %s now ends %s.", t.Slug, until.UTC().Format("Jan 2, 2006 15:04 UTC"))); err != nil {
		return err
	}
	// The tenant page's form comes back to the tenant page.
	if c.FormValue("back") == "tenant" {
		return web.Redirect(c, "/tenants/"+t.ID)
	}
	return web.Redirect(c, "/sales")
}

// reinvite makes a new invitation link for a prospect who has not yet set
// a password; an account in use is never given one (it would hand it over).
func (h *Handlers) reinvite(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.pendingInvitee(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	tok, _, err := h.invite(ctx, u, CurrentUser(c))
	if err != nil {
		return err
	}
	v, err := h.salesView(c)
	if err != nil {
		return err
	}
	v.Prospects.Invite = &views.InviteLink{Email: u.Email, URL: portalBase(c) + "/invite/" + tok}
	return h.renderSales(c, http.StatusOK, v)
}

// markTemplate lets staff mark a finished app as a demo template, or unmark it.
func (h *Handlers) markTemplate(c echo.Context) error {
	u := CurrentUser(c)
	if !u.IsStaff() {
		return apperr.New(apperr.Forbidden, "Only sales people and admins choose demo templates.")
	}
	ctx := c.Request().Context()
	app, err := h.DB.AppByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	on := c.FormValue("template") != "0"
	if on && app.IsDraft() {
		return apperr.New(apperr.Unprocessable, "Finish the app before making it a template.")
	}
	if err := h.DB.SetAppTemplate(ctx, app.ID, on); err != nil {
		return err
	}
	msg := app.Name + " is a demo template now."
	if !on {
		msg = app.Name + " is no longer a demo template."
	}
	if err := h.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, "/apps/"+app.ID)
}

// tenantURL is a tenant's public address, the orchestrator's.
func (h *Handlers) tenantURL(_ echo.Context, slug string) string {
	return h.Orchestrator.TenantURL(slug)
}

// portalBase is the portal's own origin, for links to send by mail.
func portalBase(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}
