package views

import (
	"strings"
	"time"

	"appfactory/password"
)

// SalesPage is /sales: demo templates, the demo form, and prospects by engagement.
type SalesPage struct {
	Templates []TemplateRow
	Demo      DemoForm
	// Result is the demo just created, shown once with its links.
	Result    *DemoResult
	Prospects ProspectList
}

// TemplateRow is an app marked as a demo template.
type TemplateRow struct {
	ID, Name, Platform, Version, Environment string
}

// DemoForm asks for a template and the prospect it is for.
type DemoForm struct {
	TemplateID, Email, Name, Company string
	FormError
}

// Validate checks the form; the template is checked by the handler.
func (f *DemoForm) Validate() bool {
	f.Email = strings.TrimSpace(f.Email)
	f.Name = strings.TrimSpace(f.Name)
	f.Company = strings.TrimSpace(f.Company)
	if f.TemplateID == "" {
		f.Errors.Set("template", "Pick a template.")
	}
	if msg := emailProblem(f.Email); msg != "" {
		f.Errors.Set("email", msg)
	}
	if len(f.Name) > 100 {
		f.Errors.Set("name", "Keep the name under 100 characters.")
	}
	if len(f.Company) > 100 {
		f.Errors.Set("company", "Keep the company under 100 characters.")
	}
	return f.OK()
}

// DemoResult is a demo just created.
type DemoResult struct {
	ProspectEmail string
	TenantID      string
	Slug          string
	// URL is the shareable link of the demo.
	URL string
	// InviteURL lets a prospect whose account was just made set a password
	// (shown once: only its hash is kept).
	InviteURL string
}

// ProspectList is the prospects table with its search and order.
type ProspectList struct {
	Search, Sort string
	Rows         []ProspectRow
	Now          time.Time
	CSRF         string
	// Invite is an invitation link just made for one prospect.
	Invite *InviteLink
}

// InviteLink is an invitation made from the prospects table.
type InviteLink struct {
	Email, URL string
}

// ProspectRow is a prospect with their engagement over the last 7 days.
type ProspectRow struct {
	ID, Name, Email, Company string
	Created, LastSeen        time.Time
	Apps, Logins, Requests   int
	// Invited is true while the prospect has not yet set a password.
	Invited bool
	Tenants []ProspectTenant
}

// ProspectTenant is one deployment of a prospect.
type ProspectTenant struct {
	ID, Slug, URL, AppName, State, Environment string
	Expires                                    time.Time
}

// ProspectSorts are the orders of the prospects table.
func ProspectSorts() [][2]string {
	return [][2]string{{"engaged", "Most engaged"}, {"recent", "Recently seen"}, {"new", "Newest"}}
}

// ExtendChoices are the trial extensions offered, in days.
func ExtendChoices() []string { return []string{"7", "14", "30"} }

// InvitePage is the form where an invited prospect sets their password.
type InvitePage struct {
	Token, Email, Name, Company, Password string
	FormError
}

// Validate checks the name, company and the new password's rules.
func (f *InvitePage) Validate() bool {
	f.Name, f.Company = strings.TrimSpace(f.Name), strings.TrimSpace(f.Company)
	switch {
	case f.Name == "":
		f.Errors.Set("name", "Enter your name.")
	case len(f.Name) > 100:
		f.Errors.Set("name", "Use at most 100 characters.")
	}
	if len(f.Company) > 100 {
		f.Errors.Set("company", "Use at most 100 characters.")
	}
	if err := password.Validate(f.Password); err != nil {
		f.Apply(err)
	}
	return f.OK()
}
