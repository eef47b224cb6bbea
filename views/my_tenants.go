package views

import "time"

// MyTenants is the user's deployments on "My apps", with live state.
type MyTenants struct {
	Rows []MyTenantRow
	Now  time.Time
	// Changing is set while a deployment's state is still moving: the
	// partial then polls faster.
	Changing bool
}

// MyTenantRow is one deployment of the user.
type MyTenantRow struct {
	ID, Slug, Title, AppName string
	State, Desired, Message  string
	Environment, URL         string
	Serving                  bool
	Expires, LastActive      time.Time
}

// pollEvery is the refresh period of the deployments partial.
func (v MyTenants) pollEvery() string {
	if v.Changing {
		return "every 2s"
	}
	return "every 15s"
}
