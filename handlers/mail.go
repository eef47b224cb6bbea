package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/mail"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// Mail is what the handlers need to send mail.
type Mail struct {
	// Composer renders mails with the portal's links.
	Composer *mail.Composer
	// RequireVerified refuses deploys by accounts whose email is not
	// confirmed (the trial can still be built).
	RequireVerified bool
	// Relay says an SMTP relay sends the outbox (else it is the development outbox).
	Relay bool
	// Sent wakes the relay after a mail is written (nil: nothing to wake).
	Sent func()
}

// registerMail installs verification, password reset, one-click
// unsubscribe, the mail settings and the admins' outbox.
func (h *Handlers) registerMail(e *echo.Echo) {
	e.GET("/verify/:token", h.verifyEmail)
	e.POST("/account/verify", h.resendVerification, h.RequireUser)
	e.POST("/account/mail", h.setMailSettings, h.RequireUser)
	e.GET("/forgot", h.forgotPage)
	e.POST("/forgot", h.forgot)
	e.GET("/reset/:token", h.resetPage)
	e.POST("/reset/:token", h.reset)
	e.GET("/unsubscribe/:user/:sig", h.unsubscribePage)
	e.POST("/unsubscribe/:user/:sig", h.unsubscribe)
	adm := e.Group("/admin/outbox", h.RequireRole(store.RoleAdmin))
	adm.GET("", h.outbox)
	adm.GET("/:id", h.outboxMail)
	adm.GET("/:id/html", h.outboxMailHTML)
	e.POST("/admin/users/:id/invite", h.adminResendInvite, h.RequireRole(store.RoleAdmin))
}

// queueMail writes a mail made by compose for u, when u wants its kind,
// and wakes the relay.
func (h *Handlers) queueMail(ctx context.Context, kind string, u *store.User, compose func() (*store.OutboxMail, error)) error {
	if !mail.Wanted(kind, u) {
		h.Logger.Info("mail not sent: turned off", "user", u.ID, "kind", kind)
		return nil
	}
	m, err := compose()
	if err != nil {
		return err
	}
	if err := h.DB.EnqueueMail(ctx, m); err != nil {
		return err
	}
	h.mailSent()
	return nil
}

func (h *Handlers) mailSent() {
	if h.Mail.Sent != nil {
		h.Mail.Sent()
	}
}

// mayDeploy refuses a deploy by an account whose email is unconfirmed,
// when confirmation is required.
func (h *Handlers) mayDeploy(u *store.User) error {
	if !h.Mail.RequireVerified || u.Verified() {
		return nil
	}
	return apperr.New(apperr.Forbidden, "Confirm your email before you deploy: open the link we mailed to %s (your account page sends it again).", u.Email)
}

// setMailSettings turns the user's non-security mail on or off.
func (h *Handlers) setMailSettings(c echo.Context) error {
	u := CurrentUser(c)
	on := c.FormValue("mail") == "on"
	if err := h.DB.SetMailOptOut(c.Request().Context(), u.ID, !on); err != nil {
		return err
	}
	msg := "Mail is on: we tell you when deployments are ready and trials end."
	if !on {
		msg = "Mail is off: you get security mail only."
	}
	if err := h.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, "/account")
}

// unsubscribeUser is the user of a signed unsubscribe link.
func (h *Handlers) unsubscribeUser(c echo.Context) (*store.User, error) {
	if !h.Mail.Composer.ValidUnsubscribe(c.Param("user"), c.Param("sig")) {
		return nil, apperr.New(apperr.NotFound, "This unsubscribe link is not valid. Turn mail off on your account page.")
	}
	return h.DB.UserByID(c.Request().Context(), c.Param("user"))
}

// unsubscribePage asks to confirm (a GET changes nothing: mail scanners follow links).
func (h *Handlers) unsubscribePage(c echo.Context) error {
	u, err := h.unsubscribeUser(c)
	if err != nil {
		return err
	}
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	v := views.UnsubscribeView{Action: c.Request().URL.Path, Email: u.Email, Done: u.MailOptOut}
	return web.Render(c, http.StatusOK, views.UnsubscribePage(h.Server.PageFor(c, "Mail settings"), v))
}

// unsubscribe turns the user's non-security mail off: the one-click POST
// of RFC 8058 (from a mail client, without a session: the signature is
// the authority) or the confirmation page's button.
func (h *Handlers) unsubscribe(c echo.Context) error {
	u, err := h.unsubscribeUser(c)
	if err != nil {
		return err
	}
	if err := h.DB.SetMailOptOut(c.Request().Context(), u.ID, true); err != nil {
		return err
	}
	h.Logger.Info("mail turned off by link", "user", u.ID)
	v := views.UnsubscribeView{Email: u.Email, Done: true}
	return web.Render(c, http.StatusOK, views.UnsubscribePage(h.Server.PageFor(c, "Mail settings"), v))
}
