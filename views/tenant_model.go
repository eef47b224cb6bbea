package views

import (
	"strconv"

	"appfactory/domain"
)

// TenantPage is the page of one deployment.
type TenantPage struct {
	Page   Page
	Tenant TenantView
	// Monitoring adds resource charts, the log tail and trial extension.
	Monitoring *TenantMonitoring
	// Sleep says how the tenant sleeps and why it is awake.
	Sleep *TenantSleepView
	// Backups is the Backups panel (absent for a deleted deployment).
	Backups *BackupsView
}

// TenantView is a deployment as its page shows it; the partials that htmx
// refreshes take parts of it.
type TenantView struct {
	ID           string
	Slug         string
	Title        string
	AppID        string
	AppName      string
	State        string
	DesiredState string
	StateMessage string
	// URL is where the deployment is served; shown as a link once it runs.
	URL         string
	Platform    string
	Version     string
	Environment string
	Replicas    int
	Generation  int64
	Created     string
	Expires     string
	LastActive  string
	// Settled is true when the state no longer changes by itself: the
	// progress partial then stops polling.
	Settled bool
	// CanAct shows the restart, upgrade and delete buttons.
	CanAct bool
	// CanRestart shows the restart button (the state allows it); Versions
	// is empty when the state allows no upgrade.
	CanRestart bool
	// Power is the sleep and trial controls (tenant_power.templ).
	Power    TenantPowerView
	Versions []UpgradeOption
	Events   []EventView
	Build    *BuildView
	CSRF     string
}

// UpgradeOption is a version a deployment can be upgraded to.
type UpgradeOption struct {
	Version string
	Label   string
}

// EventView is one line of a deployment's history.
type EventView struct {
	At      string
	Kind    string
	Message string
}

// BuildView is the latest image build of a deployment.
type BuildView struct {
	Tag    string
	Result string
	// Tail is the last lines of the build output.
	Tail string
}

// Deleted reports whether the deployment is gone or going.
func (t TenantView) Deleted() bool { return t.DesiredState == domain.DesiredDeleted }

// Serving reports whether the deployment answers at its URL (running, or
// passivated/paused and started again by the first request).
func (t TenantView) Serving() bool {
	switch t.State {
	case domain.StateRunning, domain.StatePaused, domain.StatePassivated:
		return !t.Deleted()
	}
	return false
}

// ProgressURL is the address of the progress partial.
func (t TenantView) ProgressURL() string { return "/tenants/" + t.ID + "/progress" }

// ReplicasText is "1 replica" or "2 replicas".
func (t TenantView) ReplicasText() string {
	if t.Replicas == 1 {
		return "1 replica"
	}
	return strconv.Itoa(t.Replicas) + " replicas"
}

// DeploymentsView lists deployments: an app's on its page, or all of a
// user's on "My apps" (AppID empty, each row naming its app).
type DeploymentsView struct {
	AppID string
	Rows  []DeploymentRow
	// Poll is set while a deployment is still changing state.
	Poll bool
}

// ShowApp reports whether rows name their app (the list of all apps).
func (d DeploymentsView) ShowApp() bool { return d.AppID == "" }

// DeploymentRow is one deployment in a list.
type DeploymentRow struct {
	ID           string
	Slug         string
	AppID        string
	AppName      string
	State        string
	StateMessage string
	URL          string
	Environment  string
	Version      string
	Created      string
	Serving      bool
}

// DeploymentsURL is the address of the partial that refreshes the list.
func (d DeploymentsView) DeploymentsURL() string {
	if d.AppID == "" {
		return "/tenants"
	}
	return "/apps/" + d.AppID + "/deployments"
}
