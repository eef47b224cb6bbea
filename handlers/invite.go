package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/views"
	"appfactory/web"
)

// invitePage asks an invited prospect for a name and password.
func (h *Handlers) invitePage(c echo.Context) error {
	u, err := h.DB.InviteUser(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	h.warmOwned(c.Request().Context(), u, "its invitation was opened")
	f := views.InvitePage{Token: c.Param("token"), Email: u.Email, Name: u.Name, Company: u.Company}
	return web.Render(c, http.StatusOK, views.InviteForm(h.Server.PageFor(c, "Welcome"), f))
}

// acceptInvite sets the password, uses the invitation up and signs the
// prospect in, to their apps.
func (h *Handlers) acceptInvite(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	u, err := h.DB.InviteUser(ctx, token)
	if err != nil {
		return err
	}
	f := views.InvitePage{Token: token, Email: u.Email, Name: c.FormValue("name"), Company: c.FormValue("company"), Password: c.FormValue("password")}
	if !f.Validate() {
		f.Password = ""
		return web.Render(c, http.StatusUnprocessableEntity, views.InviteForm(h.Server.PageFor(c, "Welcome"), f))
	}
	hash, err := h.hashPassword(ctx, f.Password)
	if err != nil {
		return err
	}
	u, err = h.DB.AcceptInvite(ctx, token, hash, f.Name, f.Company)
	if err != nil {
		return err
	}
	if u.Disabled {
		return apperr.New(apperr.Forbidden, "This account is disabled.")
	}
	h.Logger.Info("invitation accepted", "user", u.ID)
	if err := h.signIn(c, u); err != nil {
		return err
	}
	return web.Redirect(c, afterSignIn)
}
