package handlers

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// sleepView makes a tenant page's "Sleep and wake" panel.
func (h *Handlers) sleepView(ctx context.Context, u *store.User, t *store.Tenant, csrf string) (*views.TenantSleepView, error) {
	f, err := h.sleepFacts(ctx, t)
	if err != nil {
		return nil, err
	}
	e := f.Effective
	v := &views.TenantSleepView{ID: t.ID, CSRF: csrf,
		Idle: idleText(e.Idle), Pause: views.Span(e.Pause, "never"), KeepWarm: e.KeepWarm.String(),
		OwnIdle: e.OwnIdle, OwnPause: e.OwnPause, InWindow: e.InWindow,
		LastActivity: t.LastRequest, LastActivityAt: timeText(t.LastActiveAt.Time),
		LastWokenBy: f.Wake.LastWokenBy, LastWokenAt: timeText(f.Wake.LastWokenAt.Time),
		ColdStarts:    len(f.Report.ColdStarts),
		AsleepPercent: int(math.Round(f.Report.AsleepShare() * 100)),
		Unused:        views.Span(f.Report.Unused.Round(60e9), "none"),
		CanEdit:       u.IsStaff() && t.DesiredState != domain.DesiredDeleted,
		Form:          views.PolicyForm{Idle: ownIdle(f.Policy), Pause: f.Policy.Pause, KeepWarm: f.Policy.KeepWarm},
	}
	if v.KeepWarm == "" {
		v.KeepWarm = "no window"
	}
	v.Chart = views.BarChart{Title: "Cold starts", Desc: "How long each start from sleep took, last 7 days", Unit: "s"}
	for _, c := range f.Report.ColdStarts {
		v.Chart.Bars = append(v.Chart.Bars, views.Bar{Label: c.At.UTC().Format("Jan 2 15:04"), V: c.Seconds,
			Hint: c.At.UTC().Format("Jan 2 15:04") + ": " + views.FormatNumber(c.Seconds) + " s, " + c.WokenBy})
	}
	return v, nil
}

// tenantPolicyForm sets a tenant's own sleep policy from its page (sales
// and admins); an invalid form re-renders the page with its errors.
func (h *Handlers) tenantPolicyForm(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.policyEditable(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	form := views.PolicyForm{Idle: c.FormValue("idle_timeout"), Pause: c.FormValue("pause"), KeepWarm: c.FormValue("keep_warm")}
	p, errs := parsePolicy(form.Idle, form.Pause, form.KeepWarm)
	if len(errs) == 0 {
		if err := h.DB.SetTenantPolicy(ctx, t.ID, p, u.Email); err != nil {
			return err
		}
		if err := h.Flash(c, "Sleep policy of "+t.Slug+" saved."); err != nil {
			return err
		}
		return web.Redirect(c, tenantPage(t.ID))
	}
	form.Errors = errs
	page := h.Server.PageFor(c, t.Title)
	page.Nav = "apps"
	v, err := h.tenantView(ctx, u, t, page.CSRF)
	if err != nil {
		return err
	}
	sv, err := h.sleepView(ctx, u, t, page.CSRF)
	if err != nil {
		return err
	}
	sv.Form = form
	full := web.Deferred(func() (templ.Component, error) {
		mon, err := h.tenantMonitoring(ctx, u, t)
		return views.TenantShow(views.TenantPage{Page: page, Tenant: v, Monitoring: mon, Sleep: sv}), err
	})
	return web.RenderEither(c, http.StatusUnprocessableEntity, full, views.TenantPolicyForm(*sv))
}

// awakeRanking ranks the tenants by time awake without use over the last
// 7 days, for the admin dashboard.
func (h *Handlers) awakeRanking(ctx context.Context) ([]views.AwakeRow, error) {
	rank, err := h.DB.RankAwakeUnused(ctx, h.DB.Now().Add(-wakeSpan), 10)
	if err != nil {
		return nil, err
	}
	rows := make([]views.AwakeRow, 0, len(rank))
	for _, r := range rank {
		row := views.AwakeRow{ID: r.TenantID, Slug: r.Slug, Title: r.Title, Environment: r.Environment, State: r.State, Owner: r.OwnerEmail,
			Unused: views.Span(secondsSpan(r.Unused), "none"), Awake: views.Span(secondsSpan(r.Awake), "none")}
		if r.Awake > 0 {
			row.UnusedPercent = int(math.Round(100 * r.Unused / r.Awake))
		}
		if e, ok := h.Catalog.Environment(r.Environment); ok {
			row.Environment = e.Name
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// secondsSpan is a number of seconds as a duration, to the minute.
func secondsSpan(s float64) time.Duration {
	return (time.Duration(s) * time.Second).Round(time.Minute)
}
