package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// myTenants is the deployments section of "My apps": the user's own and
// those they created for others (a sales person's demos).
func (h *Handlers) myTenants(ctx context.Context, c echo.Context, u *store.User) (views.MyTenants, error) {
	ts, err := h.DB.ListTenants(ctx, store.TenantFilter{VisibleTo: u.ID, Limit: 200})
	if err != nil {
		return views.MyTenants{}, err
	}
	v := views.MyTenants{Now: h.DB.Now()}
	for _, t := range ts {
		if t.DesiredState == domain.DesiredDeleted {
			continue
		}
		r := views.MyTenantRow{ID: t.ID, Slug: t.Slug, Title: t.Title, State: t.State, Desired: t.DesiredState,
			Message: t.StateMessage, Environment: t.Environment, URL: h.tenantURL(c, t.Slug),
			Expires: t.ExpiresAt.Time, LastActive: t.LastActiveAt.Time}
		if r.Title == "" {
			r.Title = t.Slug
		}
		if e, ok := h.Catalog.Environment(t.Environment); ok {
			r.Environment = e.Name
		}
		switch t.State {
		case domain.StateRunning, domain.StatePaused, domain.StatePassivated:
			r.Serving = true
		}
		if !t.Settled() {
			v.Changing = true
		}
		v.Rows = append(v.Rows, r)
	}
	return v, nil
}

// myTenantsPartial is the section's partial, which polls itself.
func (h *Handlers) myTenantsPartial(c echo.Context) error {
	v, err := h.myTenants(c.Request().Context(), c, CurrentUser(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.MyTenantsPanel(v))
}
