package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/views"
	"appfactory/web"
)

func (h *Handlers) home(c echo.Context) error {
	return web.Render(c, http.StatusOK, views.Home(h.Server.PageFor(c, "Home")))
}
