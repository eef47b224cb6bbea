package views

import (
	"fmt"
	"time"
)

// BudgetView is the host's memory budget on the admin dashboard.
type BudgetView struct {
	// On is false when serve runs without a budget.
	On      bool
	Bytes   int64
	Used    int64
	Members []BudgetMember
	Queue   []BudgetWaiter
	// Evicted and Queued count since the server started.
	Evicted, Queued int64
	// Memory charts each member's limit, longest idle first.
	Memory BarChart
}

// BudgetMember is one tenant in the budget.
type BudgetMember struct {
	TenantID, Slug, State string
	Bytes                 int64
	Idle                  time.Duration
	InFlight              int64
	Evicting              bool
}

// BudgetWaiter is one tenant waiting for memory.
type BudgetWaiter struct {
	Place          int
	TenantID, Slug string
	Bytes          int64
	Waited         time.Duration
	Requests       int
}

// UsedShare is the share of the budget in use.
func (b BudgetView) UsedShare() float64 {
	if b.Bytes <= 0 {
		return 0
	}
	return float64(b.Used) / float64(b.Bytes)
}

// NewBudgetChart charts the members' memory limits in MiB.
func NewBudgetChart(members []BudgetMember) BarChart {
	c := BarChart{Title: "Memory limits of the tenants in the budget", Unit: "MiB",
		Desc: fmt.Sprintf("%d tenants, longest idle first.", len(members))}
	for _, m := range members {
		c.Bars = append(c.Bars, Bar{Label: m.Slug, V: float64(m.Bytes) / (1 << 20),
			Hint: fmt.Sprintf("%s: %s, %s, idle %s", m.Slug, Bytes(m.Bytes), m.State, IdleText(m.Idle))})
	}
	return c
}

// IdleText writes an idle time to the second.
func IdleText(d time.Duration) string {
	return d.Round(time.Second).String()
}
