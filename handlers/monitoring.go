package handlers

import (
	"context"
	"io"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"appfactory/orchestrator/monitor"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// Monitoring is what the dashboards, the tenant monitoring endpoints and
// /metrics need; nil fields degrade their part (no capacity, no logs).
type Monitoring struct {
	// Metrics is served at /metrics.
	Metrics prometheus.Gatherer
	// Runtime reads the containers and logs of tenants.
	Runtime containerLogs
	// Capacity measures the engine's host against the running tenants.
	Capacity capacityReader
	// InUse lists the tenants with requests in flight right now.
	InUse func() []string
	// Control carries out the admin's bulk actions.
	Control tenantControl
	// Extender lengthens trials from the sales view.
	Extender trialExtender
	// Budget is the host's memory budget (nil: off; admin_budget.go).
	Budget budgetReader
}

// containerLogs is the part of the runtime the log endpoints read.
type containerLogs interface {
	Observe(ctx context.Context, tenant string) (runtime.Observation, error)
	Logs(ctx context.Context, replicaID string, opts runtime.LogOptions) (io.ReadCloser, error)
}

// capacityReader measures host capacity.
type capacityReader interface {
	Capacity(ctx context.Context) (monitor.Capacity, error)
}

// tenantControl changes a tenant's desired state on behalf of a user.
type tenantControl interface {
	Passivate(ctx context.Context, tenantID, reason string) error
	Delete(ctx context.Context, tenantID, by string) error
}

// activeWindow is how recent a request must be for a tenant to count as active now.
const activeWindow = 5 * time.Minute

// registerMonitoring installs the admin dashboard, the tenant monitoring
// endpoints, their API and /metrics.
func (h *Handlers) registerMonitoring(e *echo.Echo) {
	e.GET("/admin", h.adminDashboard)
	e.POST("/admin/tenants/bulk", h.adminBulk)
	e.GET("/metrics", h.metrics)

	e.GET("/tenants/:id/stats", h.tenantStatsPartial)
	e.GET("/tenants/:id/logs/stream", h.tenantLogStream)
	e.GET("/apps/deployments", h.myTenantsPartial, h.RequireUser)

	api := e.Group("/api/v1", h.APIAuth)
	api.GET("/tenants/:id/logs", h.apiTenantLogs)
	api.GET("/tenants/:id/logs/stream", h.tenantLogStream)
	api.GET("/tenants/:id/stats", h.apiTenantStats)
	api.GET("/admin/summary", h.apiAdminSummary, h.RequireRole(store.RoleAdmin))
	api.GET("/admin/budget", h.apiAdminBudget, h.RequireRole(store.RoleAdmin))
}

// visibleTenant loads the tenant of the :id parameter if the user may see
// it (its owner, its creator, sales people and admins); to anyone else it
// is not found.
func (h *Handlers) visibleTenant(c echo.Context) (*store.Tenant, error) {
	return h.tenantFor(c.Request().Context(), CurrentUser(c), c.Param("id"), false)
}

// activeNow counts the tenants with a request in the last minutes or one
// in flight.
func (h *Handlers) activeNow(ctx context.Context) (int, error) {
	ids, err := h.DB.ActiveTenantIDs(ctx, h.DB.Now().Add(-activeWindow))
	if err != nil {
		return 0, err
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	for _, id := range h.Monitoring.InUse() {
		set[id] = true
	}
	return len(set), nil
}
