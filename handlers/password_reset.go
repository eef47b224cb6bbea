package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// Password reset: a link that works once, for resetTTL, whose token is
// kept only as a hash. Every address gets the same answer, so that the
// form tells nobody which accounts exist.
const (
	resetTTL = time.Hour
	// resetsPerIP within resetWindow get 429 (an answer about the
	// client, never about an account).
	resetsPerIP = 10
	// resetsPerAccount within resetWindow are mailed; more are dropped
	// silently (answered as usual), so that nobody floods a mailbox.
	resetsPerAccount = 3
	resetWindow      = time.Hour
)

func resetIPKey(ip string) string         { return "reset-ip:" + ip }
func resetAccountKey(email string) string { return "reset-acct:" + store.NormalizeEmail(email) }

func (h *Handlers) forgotPage(c echo.Context) error {
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	return h.renderForgot(c, http.StatusOK, views.ForgotForm{Email: c.QueryParam("email")})
}

func (h *Handlers) renderForgot(c echo.Context, status int, f views.ForgotForm) error {
	return web.Render(c, status, views.ForgotPage(h.Server.PageFor(c, "Forgot password"), f))
}

// forgot mails a reset link when the address has an account, and answers
// the same either way.
func (h *Handlers) forgot(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.ForgotForm{Email: c.FormValue("email")}
	if !f.Validate() {
		return h.renderForgot(c, http.StatusUnprocessableEntity, f)
	}
	ipKey, acctKey := resetIPKey(c.RealIP()), resetAccountKey(f.Email)
	n, err := h.DB.CountAttempts(ctx, ipKey, resetWindow)
	if err != nil {
		return err
	}
	if n >= resetsPerIP {
		h.Logger.Warn("password resets throttled", "ip", c.RealIP())
		f.Error = "Too many reset requests from your network. Try again in an hour."
		return h.renderForgot(c, http.StatusTooManyRequests, f)
	}
	perAccount, err := h.DB.CountAttempts(ctx, acctKey, resetWindow)
	if err != nil {
		return err
	}
	for _, key := range []string{ipKey, acctKey} {
		if err := h.DB.RecordAttempt(ctx, key); err != nil {
			return err
		}
	}
	u, err := h.DB.UserByEmail(ctx, f.Email)
	switch {
	case apperr.Code(err) == apperr.NotFound:
		h.Logger.Info("password reset for no account", "ip", c.RealIP())
	case err != nil:
		return err
	case u.Disabled:
		h.Logger.Info("password reset for a disabled account", "user", u.ID)
	case perAccount >= resetsPerAccount:
		h.Logger.Warn("password resets of an account throttled", "user", u.ID)
	default:
		if _, err := h.DB.CreateAccountToken(ctx, u.ID, store.TokenResetPassword, resetTTL, func(token string) (*store.OutboxMail, error) {
			return h.Mail.Composer.Reset(u, token, resetTTL)
		}); err != nil {
			return err
		}
		h.mailSent()
		h.Logger.Info("password reset mailed", "user", u.ID)
	}
	f.Sent = true
	return h.renderForgot(c, http.StatusOK, f)
}

// resetLinkGone answers a used, expired or unknown reset link.
func (h *Handlers) resetLinkGone(c echo.Context, err error) error {
	p := h.Server.PageFor(c, "Reset your password")
	return web.Render(c, http.StatusNotFound, views.LinkGonePage(p, apperr.Message(err), "/forgot", "Ask for a new link"))
}

func (h *Handlers) resetPage(c echo.Context) error {
	u, err := h.DB.AccountTokenUser(c.Request().Context(), store.TokenResetPassword, c.Param("token"))
	if apperr.Code(err) == apperr.NotFound {
		return h.resetLinkGone(c, err)
	}
	if err != nil {
		return err
	}
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.ResetPage(h.Server.PageFor(c, "Choose a new password"), views.ResetForm{Token: c.Param("token"), Email: u.Email}))
}

// reset sets the new password, uses the link up, ends every session of
// the account and sends the person to sign in.
func (h *Handlers) reset(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	u, err := h.DB.AccountTokenUser(ctx, store.TokenResetPassword, token)
	if apperr.Code(err) == apperr.NotFound {
		return h.resetLinkGone(c, err)
	}
	if err != nil {
		return err
	}
	f := views.ResetForm{Token: token, Email: u.Email, New: c.FormValue("new_password")}
	if !f.Validate() {
		f.New = ""
		return web.Render(c, http.StatusUnprocessableEntity, views.ResetPage(h.Server.PageFor(c, "Choose a new password"), f))
	}
	hash, err := h.hashPassword(ctx, f.New)
	if err != nil {
		return err
	}
	u, err = h.DB.ResetPassword(ctx, token, hash)
	if apperr.Code(err) == apperr.NotFound {
		return h.resetLinkGone(c, err)
	}
	if err != nil {
		return err
	}
	h.Logger.Info("password reset", "user", u.ID)
	if err := h.DB.ClearAttempts(ctx, signInAccountKey(u.Email)); err != nil {
		return err
	}
	// The sessions of the account ended with the write, this one too
	// when it was the account's.
	if cu := CurrentUser(c); cu != nil && cu.ID == u.ID {
		if err := h.endCurrentSession(c); err != nil {
			return err
		}
	}
	return h.flashTo(c, "Your password is changed. Sign in with it.", "/login")
}
