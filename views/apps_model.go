package views

import (
	"strconv"

	"github.com/a-h/templ"
)

// AppRow is an app in a list.
type AppRow struct {
	ID, Name, Status      string
	Revision              int
	Platform, Environment string
	Updated               string
	// Step is where a draft's wizard resumes.
	Step int
}

// URL is the app's page.
func (r AppRow) URL() string { return "/apps/" + r.ID }

// ResumeURL is where a draft's wizard resumes.
func (r AppRow) ResumeURL() string { return StepURL(r.ID, max(r.Step, 1)) }

// DisplayName is the name with its revision when there is more than one.
func (r AppRow) DisplayName() string { return displayName(r.Name, r.Revision) }

func displayName(name string, rev int) string {
	if name == "" {
		name = "Untitled app"
	}
	if rev > 1 {
		return name + " (v" + strconv.Itoa(rev) + ")"
	}
	return name
}

// AppsListData is the list of finished apps on "My apps".
type AppsListData struct {
	Apps []AppRow
	// CSRF is the form token of the rows' buttons.
	CSRF string
}

// AppsPage is "My apps": drafts to resume, finished apps, and the section
// where deployments are listed.
type AppsPage struct {
	Page   Page
	Drafts []AppRow
	Apps   AppsListData
	// Deployments lists the user's tenants; until the factory provides it,
	// the section says where deployments will appear.
	Deployments templ.Component
}

// DoctypeSummary is a document type as the review and the app page show it.
type DoctypeSummary struct {
	Name   string
	Fields []FieldSummary
}

// FieldSummary is a field as the review and the app page show it.
type FieldSummary struct {
	Name, Type string
	Choices    []string
}

// CustomSummary is an uploaded component chosen for an app.
type CustomSummary struct {
	Name, Version, SHA256 string
}

// AppSummary is the whole assembly, read-only.
type AppSummary struct {
	ID, Name, Status string
	Revision         int
	ParentID         string
	Platform         string
	Version          string
	LTS              bool
	Components       []string
	Custom           []CustomSummary
	Title, Color     string
	Doctypes         []DoctypeSummary
	Environment      string
	EnvDetails       string
	Replicas         int
	Created, Updated string
	DeployRequested  string
	// IsTemplate marks a demo template (staff mark it on the app page).
	IsTemplate bool
}

// DisplayName is the name with its revision when there is more than one.
func (s AppSummary) DisplayName() string { return displayName(s.Name, s.Revision) }

// AppPage is the page of one app.
type AppPage struct {
	Page    Page
	App     AppSummary
	Step    int
	IsOwner bool
	// Deployments shows the app's tenants when the factory provides it.
	Deployments templ.Component
}
