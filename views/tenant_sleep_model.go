package views

import "strings"

// TenantSleepView is a tenant page's "Sleep and wake" panel: how the tenant
// sleeps, and why it is awake.
type TenantSleepView struct {
	ID   string
	CSRF string
	// Idle, Pause and KeepWarm are the effective policy in words; their
	// Own flags say which the tenant's own policy sets.
	Idle, Pause, KeepWarm string
	OwnIdle, OwnPause     bool
	InWindow              bool
	// LastActivity is the latest real request, LastActivityAt its time.
	LastActivity, LastActivityAt string
	LastWokenBy, LastWokenAt     string
	// ColdStarts counts the starts from sleep in the last 7 days; Chart
	// shows their durations.
	ColdStarts int
	Chart      BarChart
	// AsleepPercent is the share of the last 7 days asleep; Unused the
	// time awake without use.
	AsleepPercent int
	Unused        string
	// CanEdit shows the policy form (sales and admins).
	CanEdit bool
	Form    PolicyForm
}

// PolicyForm is the tenant page's sleep policy form: empty fields keep
// the environment's defaults.
type PolicyForm struct {
	Idle, Pause, KeepWarm string
	FormError
}

// Selected is the selected attribute of a pause choice.
func (f PolicyForm) Selected(v string) bool { return strings.EqualFold(f.Pause, v) }
