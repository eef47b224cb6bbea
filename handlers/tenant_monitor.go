package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// statsWindow is how far back the tenant charts and the stats API look.
const statsWindow = 24 * time.Hour

// tenantResources builds the CPU and memory charts of a tenant.
func (h *Handlers) tenantResources(ctx context.Context, tenantID string) (views.TenantResources, error) {
	now := h.DB.Now()
	stats, err := h.DB.TenantStats(ctx, tenantID, now.Add(-statsWindow))
	if err != nil {
		return views.TenantResources{}, err
	}
	v := views.TenantResources{TenantID: tenantID, Now: now}
	cpu := views.Series{Name: "CPU"}
	mem := views.Series{Name: "memory"}
	for _, s := range stats {
		cpu.Points = append(cpu.Points, views.Point{At: s.At.Time, V: s.CPUPercent})
		mem.Points = append(mem.Points, views.Point{At: s.At.Time, V: float64(s.MemBytes) / (1 << 20)})
	}
	if n := len(stats); n > 0 {
		last := stats[n-1]
		v.LatestAt, v.LatestCPUPercent, v.LatestMemBytes = last.At.Time, last.CPUPercent, last.MemBytes
	}
	from := now.Add(-statsWindow)
	v.CPU = views.LineChart{Title: "CPU use, last 24 hours", Unit: "% of a CPU", Series: []views.Series{cpu}, From: from, To: now,
		Desc: "Sum over the deployment's running containers, sampled each minute; gaps are times it was stopped."}
	v.Mem = views.LineChart{Title: "Memory use, last 24 hours", Unit: "MiB", Series: []views.Series{mem}, From: from, To: now,
		Desc: "Sum over the deployment's running containers, sampled each minute; gaps are times it was stopped."}
	return v, nil
}

// tenantLogTail lists the containers the log viewer can select.
func (h *Handlers) tenantLogTail(ctx context.Context, tenantID string) views.TenantLogTail {
	v := views.TenantLogTail{TenantID: tenantID, Tail: defaultLogTail}
	cs, err := h.tenantContainers(ctx, tenantID, "")
	if err != nil {
		// The viewer still opens; the stream reports what is wrong.
		return v
	}
	seen := map[string]bool{}
	for _, c := range cs {
		v.Containers = append(v.Containers, c.Name)
		if c.Service != "" && !seen[c.Service] {
			seen[c.Service] = true
			v.Services = append(v.Services, c.Service)
		}
	}
	if len(v.Containers) == len(v.Services) {
		v.Services = nil // one replica each: the container names say it all
	}
	return v
}

func (h *Handlers) tenantStatsPartial(c echo.Context) error {
	t, err := h.visibleTenant(c)
	if err != nil {
		return err
	}
	v, err := h.tenantResources(c.Request().Context(), t.ID)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.TenantResourcesPanel(v))
}

// StatJSON is one resource sample in the API.
type StatJSON struct {
	At         time.Time `json:"at"`
	CPUPercent float64   `json:"cpu_percent"`
	MemBytes   int64     `json:"mem_bytes"`
}

// apiTenantStats answers a tenant's samples of the last 24 hours, oldest first.
func (h *Handlers) apiTenantStats(c echo.Context) error {
	t, err := h.visibleTenant(c)
	if err != nil {
		return err
	}
	stats, err := h.DB.TenantStats(c.Request().Context(), t.ID, h.DB.Now().Add(-statsWindow))
	if err != nil {
		return err
	}
	out := make([]StatJSON, 0, len(stats))
	for _, s := range stats {
		out = append(out, StatJSON{At: s.At.Time, CPUPercent: s.CPUPercent, MemBytes: s.MemBytes})
	}
	return c.JSON(http.StatusOK, map[string]any{"stats": out})
}

// tenantMonitoring is what monitoring adds to a deployment's page: the
// trial's end (extensible by staff), charts, and logs while containers exist.
func (h *Handlers) tenantMonitoring(ctx context.Context, u *store.User, t *store.Tenant) (*views.TenantMonitoring, error) {
	res, err := h.tenantResources(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	m := &views.TenantMonitoring{Resources: res}
	if t.State != domain.StateDeleted {
		logs := h.tenantLogTail(ctx, t.ID)
		m.Logs = &logs
	}
	if exp := t.ExpiresAt.Time; !exp.IsZero() && t.DesiredState != domain.DesiredDeleted {
		now := h.DB.Now()
		m.Trial = "ends " + exp.UTC().Format("Jan 2, 2006 15:04 UTC") + " (" + views.Remaining(exp, now) + ")"
		m.CanExtend = u.IsStaff()
	}
	return m, nil
}
