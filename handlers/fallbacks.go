package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/views"
	"appfactory/web"
)

// registerFallbacks adds pages that the rest of the portal links to but that
// no feature has registered (yet): sign-in lands on /apps.
func (h *Handlers) registerFallbacks(e *echo.Echo) {
	for _, r := range e.Routes() {
		if r.Method == http.MethodGet && r.Path == "/apps" {
			return
		}
	}
	e.GET("/apps", func(c echo.Context) error {
		p := h.Server.PageFor(c, "My apps")
		p.Nav = "apps"
		return web.Render(c, http.StatusOK, views.AppsPlaceholder(p))
	}, h.RequireUser)
}
