package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// verifyTTL is how long an email confirmation link works.
const verifyTTL = 7 * 24 * time.Hour

// sendVerification mails u a new confirmation link (earlier ones stop working).
func (h *Handlers) sendVerification(ctx context.Context, u *store.User) error {
	_, err := h.DB.CreateAccountToken(ctx, u.ID, store.TokenVerifyEmail, verifyTTL, func(token string) (*store.OutboxMail, error) {
		return h.Mail.Composer.Verify(u, token)
	})
	if err == nil {
		h.mailSent()
	}
	return err
}

// verifyEmail uses a confirmation link.
func (h *Handlers) verifyEmail(c echo.Context) error {
	u, err := h.DB.VerifyEmail(c.Request().Context(), c.Param("token"))
	if apperr.Code(err) == apperr.NotFound {
		p := h.Server.PageFor(c, "Confirm your email")
		again := "/account"
		return web.Render(c, http.StatusNotFound, views.LinkGonePage(p, apperr.Message(err), again, "Send a new confirmation mail from your account page"))
	}
	if err != nil {
		return err
	}
	h.Logger.Info("email confirmed", "user", u.ID)
	if err := h.Flash(c, "Your email "+u.Email+" is confirmed."); err != nil {
		return err
	}
	if cu := CurrentUser(c); cu != nil && cu.ID == u.ID {
		return web.Redirect(c, afterSignIn)
	}
	return web.Redirect(c, "/login")
}

// verifyResendKey throttles the confirmation mails one account asks for.
func verifyResendKey(userID string) string { return "verify-resend:" + userID }

// resendVerification mails the signed-in user a new confirmation link, a
// few times an hour at most.
func (h *Handlers) resendVerification(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	if u.Verified() {
		return h.flashTo(c, "Your email is confirmed already.", "/account")
	}
	n, err := h.DB.CountAttempts(ctx, verifyResendKey(u.ID), time.Hour)
	if err != nil {
		return err
	}
	if n >= 5 {
		return apperr.New(apperr.TooMany, "We sent five confirmation mails this hour. Look for them in your mailbox, or try again later.")
	}
	if err := h.DB.RecordAttempt(ctx, verifyResendKey(u.ID)); err != nil {
		return err
	}
	if err := h.sendVerification(ctx, u); err != nil {
		return err
	}
	return h.flashTo(c, "We sent a new confirmation link to "+u.Email+".", "/account")
}

func (h *Handlers) flashTo(c echo.Context, msg, to string) error {
	if err := h.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, to)
}
