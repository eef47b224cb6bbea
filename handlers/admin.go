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
	"appfactory/domain"
	"appfactory/orchestrator/monitor"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// tenantTablePerPage is the tenant table's page size.
const tenantTablePerPage = 50

// tenantQuery reads the table's filter from the query string.
func tenantQuery(c echo.Context) (store.TenantQuery, views.TenantFilter) {
	f := views.TenantFilter{
		Search: c.QueryParam("q"), State: c.QueryParam("state"), Environment: c.QueryParam("env"),
		Platform: c.QueryParam("platform"), Owner: c.QueryParam("owner"), Sort: c.QueryParam("sort"),
		Asc: c.QueryParam("dir") == "asc", PerPage: tenantTablePerPage,
	}
	f.Page, _ = strconv.Atoi(c.QueryParam("page"))
	f.Page = max(f.Page, 1)
	q := store.TenantQuery{
		Search: f.Search, State: f.State, Environment: f.Environment, Platform: f.Platform, Owner: f.Owner,
		Sort: f.Sort, Asc: f.Asc, Limit: f.PerPage, Offset: (f.Page - 1) * f.PerPage,
	}.Normalize()
	f.Sort = q.Sort
	return q, f
}

// tenantTable loads a page of the tenant table.
func (h *Handlers) tenantTable(c echo.Context) (views.TenantTable, error) {
	ctx := c.Request().Context()
	q, f := tenantQuery(c)
	rows, total, err := h.DB.ListTenantRows(ctx, q)
	if err != nil {
		return views.TenantTable{}, err
	}
	opts, err := h.DB.ListTenantFilterOptions(ctx)
	if err != nil {
		return views.TenantTable{}, err
	}
	t := views.TenantTable{Filter: f, Total: total, Environments: opts.Environments, Platforms: opts.Platforms,
		States: domain.TenantStates(), Now: h.DB.Now(), CSRF: CSRFToken(c)}
	for _, r := range rows {
		t.Rows = append(t.Rows, views.TenantTableRow{
			ID: r.ID, Slug: r.Slug, AppName: r.AppName, OwnerEmail: r.OwnerEmail, Platform: r.Platform, Version: r.Version,
			Environment: r.Environment, State: r.State, Desired: r.DesiredState,
			Created: r.CreatedAt.Time, LastActive: r.LastActiveAt.Time, Expires: r.ExpiresAt.Time,
		})
	}
	return t, nil
}

func (h *Handlers) adminDashboard(c echo.Context) error {
	table, err := h.tenantTable(c)
	if err != nil {
		return err
	}
	page := web.Deferred(func() (templ.Component, error) { return h.adminDashboardPage(c, table) })
	return web.RenderEither(c, http.StatusOK, page, web.Swap{Component: views.AdminTenantTable(table), Target: "tenant-table"})
}

// adminDashboardPage is the whole dashboard around the tenant table.
func (h *Handlers) adminDashboardPage(c echo.Context, table views.TenantTable) (templ.Component, error) {
	ctx := c.Request().Context()
	d := views.AdminDashboard{Table: table}
	sum, err := h.adminSummary(ctx)
	if err != nil {
		return nil, err
	}
	d.Live, d.ActiveNow = sum.Live, sum.ActiveNow
	for _, s := range domain.TenantStates() {
		if n := sum.Counts[s]; n > 0 || s == domain.StateRunning || s == domain.StatePassivated {
			d.Counts = append(d.Counts, views.StateCount{State: s, N: n})
		}
	}
	if sum.Capacity != nil {
		cp := sum.Capacity
		d.Capacity = views.CapacityView{Known: true, HostMemBytes: cp.HostMemBytes, HostCPUs: cp.HostCPUs,
			ReservedMemBytes: cp.ReservedMemBytes, ReservedCPUs: cp.ReservedCPUs, RunningTenants: cp.RunningTenants,
			RunningContainers: cp.RunningContainers, PerTenantBytes: cp.PerTenantBytes, MoreTenants: cp.MoreTenants}
	}
	d.Budget = h.budgetView() // admin_budget.go
	if err := h.dashboardCharts(ctx, &d, sum.Counts); err != nil {
		return nil, err
	}
	if d.Awake, err = h.awakeRanking(ctx); err != nil {
		return nil, err
	}
	p := h.Server.PageFor(c, "Tenants")
	p.Nav = "admin"
	return views.AdminDashboardPage(p, d), nil
}

// dashboardCharts fills the charts of the last 24 hours.
func (h *Handlers) dashboardCharts(ctx context.Context, d *views.AdminDashboard, counts map[string]int) error {
	now := h.DB.Now()
	since := now.Add(-24 * time.Hour)
	samples, err := h.DB.HostSamples(ctx, since)
	if err != nil {
		return err
	}
	running := views.Series{Name: "running"}
	passivated := views.Series{Name: "passivated"}
	for _, s := range samples {
		running.Points = append(running.Points, views.Point{At: s.At.Time, V: float64(s.Running)})
		passivated.Points = append(passivated.Points, views.Point{At: s.At.Time, V: float64(s.Passivated)})
	}
	// The lines end at the counts the cards above show, not at the last
	// sample (up to a minute old, or none yet on a fresh server).
	nowRunning, nowPassivated := counts[domain.StateRunning]+counts[domain.StatePaused], counts[domain.StatePassivated]
	running.Points = append(running.Points, views.Point{At: now, V: float64(nowRunning)})
	passivated.Points = append(passivated.Points, views.Point{At: now, V: float64(nowPassivated)})
	d.Tenancy = views.LineChart{Title: "Running and passivated tenants, last 24 hours", Unit: "tenants",
		Desc:   fmt.Sprintf("Sampled each minute; now %d running and %d passivated.", nowRunning, nowPassivated),
		Series: []views.Series{running, passivated}, From: since, To: now}
	hours, err := h.DB.ActivationsByHour(ctx, since.Add(time.Hour), now)
	if err != nil {
		return err
	}
	d.Activity = views.BarChart{Title: "Activations per hour, last 24 hours", Unit: "activations"}
	d.Latency = views.BarChart{Title: "Median activation time per hour, last 24 hours", Unit: "seconds"}
	total := 0
	for _, hr := range hours {
		// Hours read as the line chart's times do.
		label := hr.Hour.Format("15:04")
		total += hr.Count
		d.Activity.Bars = append(d.Activity.Bars, views.Bar{Label: label, V: float64(hr.Count)})
		d.Latency.Bars = append(d.Latency.Bars, views.Bar{Label: label, V: hr.P50,
			Hint: fmt.Sprintf("%s: median %s s over %d activations", label, views.FormatNumber(hr.P50), hr.Count)})
	}
	d.Activity.Desc = fmt.Sprintf("%d activations in the last 24 hours.", total)
	d.Latency.Desc = "Median time from the first waiting request to a ready tenant, by hour."
	return nil
}

// AdminSummary is the dashboard's head figures, also served as JSON.
type AdminSummary struct {
	Counts      map[string]int    `json:"counts"`
	Live        int               `json:"live"`
	ActiveNow   int               `json:"active_now"`
	ActiveShare float64           `json:"active_share"`
	Capacity    *monitor.Capacity `json:"capacity"`
}

// adminSummary counts tenants by state and activity, and measures capacity
// (left nil when the engine does not answer: the page still renders).
func (h *Handlers) adminSummary(ctx context.Context) (AdminSummary, error) {
	counts, err := h.DB.TenantStateCounts(ctx)
	if err != nil {
		return AdminSummary{}, err
	}
	s := AdminSummary{Counts: counts}
	for _, st := range domain.TenantStates() {
		if _, ok := s.Counts[st]; !ok {
			s.Counts[st] = 0
		}
	}
	for st, n := range counts {
		if st != domain.StateDeleted {
			s.Live += n
		}
	}
	if s.ActiveNow, err = h.activeNow(ctx); err != nil {
		return AdminSummary{}, err
	}
	if s.Live > 0 {
		s.ActiveShare = float64(s.ActiveNow) / float64(s.Live)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if cp, err := h.Monitoring.Capacity.Capacity(cctx); err != nil {
		h.Logger.Warn("measure capacity", slog.Any("err", err))
	} else {
		s.Capacity = &cp
	}
	return s, nil
}

func (h *Handlers) apiAdminSummary(c echo.Context) error {
	s, err := h.adminSummary(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

// maxBulk bounds one bulk action.
const maxBulk = 200

// adminBulk passivates or deletes the checked tenants.
func (h *Handlers) adminBulk(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	ids, action := form["ids"], form.Get("action")
	if len(ids) == 0 {
		return h.bulkDone(c, "Select at least one tenant first.")
	}
	if len(ids) > maxBulk {
		return apperr.New(apperr.Unprocessable, "Select at most %d tenants at once.", maxBulk)
	}
	u := CurrentUser(c)
	ctx := c.Request().Context()
	done, failed := 0, 0
	for _, id := range ids {
		var err error
		switch action {
		case "passivate":
			err = h.Monitoring.Control.Passivate(ctx, id, "passivated by "+u.Email)
		case "delete":
			err = h.Monitoring.Control.Delete(ctx, id, u.ID)
		default:
			return apperr.New(apperr.Invalid, "Unknown action %q.", action)
		}
		if err != nil {
			failed++
			h.Logger.Warn("bulk action", slog.String("action", action), slog.String("tenant", id), slog.Any("err", err))
			continue
		}
		done++
	}
	h.Logger.Info("bulk action", slog.String("action", action), slog.Int("done", done), slog.Int("failed", failed), slog.String("by", u.ID))
	verb := map[string]string{"passivate": "passivated", "delete": "deleted"}[action]
	msg := fmt.Sprintf("%d %s %s.", done, plural(done, "tenant", "tenants"), verb)
	if failed > 0 {
		msg += fmt.Sprintf(" %d could not be changed.", failed)
	}
	return h.bulkDone(c, msg)
}

func (h *Handlers) bulkDone(c echo.Context, msg string) error {
	if err := h.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, "/admin")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
