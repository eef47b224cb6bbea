// Package views holds appfactory's markup: templ components for layouts,
// pages and the partials that htmx swaps. Components take view models, never
// store rows or echo contexts.
package views

// Page is what the layout needs from every page.
type Page struct {
	Title string
	// Nav is the active navigation entry ("apps", "admin", ...).
	Nav string
	// User is the signed-in user, nil for visitors.
	User *UserBadge
	// CSRF is the session's form token; forms carry it as csrf_token and
	// htmx sends it as the X-CSRF-Token header.
	CSRF  string
	Flash string
}

// UserBadge is what the layout shows of the signed-in user.
type UserBadge struct {
	ID    string
	Name  string
	Email string
	Role  string
}

// IsStaff reports whether the badge is a sales person's or an admin's.
func (u *UserBadge) IsStaff() bool { return u != nil && (u.Role == "sales" || u.Role == "admin") }

// IsAdmin reports whether the badge is an admin's.
func (u *UserBadge) IsAdmin() bool { return u != nil && u.Role == "admin" }

// CSRFHeaders is the hx-headers value that makes htmx send the CSRF token.
func (p Page) CSRFHeaders() string {
	return `{"X-CSRF-Token":"` + p.CSRF + `"}`
}
