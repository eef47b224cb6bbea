package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/orchestrator/budget"
	"appfactory/views"
)

// budgetReader is the host's memory budget as the admin sees it.
type budgetReader interface {
	Snapshot() budget.State
}

// BudgetJSON is the body of GET /api/v1/admin/budget.
type BudgetJSON struct {
	// Enabled is false when serve runs with --memory-budget off.
	Enabled bool `json:"enabled"`
	budget.State
}

// apiAdminBudget reports the memory budget: its size, what is used, the
// tenants in it with their memory and idle time, and the queue.
func (h *Handlers) apiAdminBudget(c echo.Context) error {
	if h.Monitoring.Budget == nil {
		return c.JSON(http.StatusOK, BudgetJSON{State: budget.State{Members: []budget.MemberState{}, Queue: []budget.QueueEntry{}}})
	}
	return c.JSON(http.StatusOK, BudgetJSON{Enabled: true, State: h.Monitoring.Budget.Snapshot()})
}

// budgetView is the dashboard's memory budget card.
func (h *Handlers) budgetView() views.BudgetView {
	if h.Monitoring.Budget == nil {
		return views.BudgetView{}
	}
	st := h.Monitoring.Budget.Snapshot()
	now := h.DB.Now()
	v := views.BudgetView{On: true, Bytes: st.Bytes, Used: st.Used, Evicted: st.Counts.Evicted, Queued: st.Counts.Queued}
	for _, m := range st.Members {
		v.Members = append(v.Members, views.BudgetMember{TenantID: m.TenantID, Slug: m.Slug, State: m.State, Bytes: m.Bytes,
			Idle: time.Duration(m.IdleSecs * float64(time.Second)), InFlight: m.InFlight, Evicting: m.Evicting})
	}
	for i, w := range st.Queue {
		v.Queue = append(v.Queue, views.BudgetWaiter{Place: i + 1, TenantID: w.TenantID, Slug: w.Slug, Bytes: w.Bytes,
			Waited: now.Sub(w.Since), Requests: w.Callers})
	}
	v.Memory = views.NewBudgetChart(v.Members)
	return v
}
