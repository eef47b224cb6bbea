package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// accountView gathers the account page's model for the signed-in user.
func (h *Handlers) accountView(c echo.Context) (views.AccountView, error) {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	a := views.AccountView{Name: u.Name, Email: u.Email, Company: u.Company, Role: u.Role, Verified: u.Verified(), MailOn: !u.MailOptOut}
	tv, err := h.tokensView(c)
	if err != nil {
		return a, err
	}
	a.Tokens = tv
	ss, err := h.DB.ListUserSessions(ctx, u.ID)
	if err != nil {
		return a, err
	}
	current := ""
	if s := currentSession(c); s != nil {
		current = store.HashSessionID(s.ID)
	}
	for _, s := range ss {
		a.Sessions = append(a.Sessions, views.SessionRow{
			ID: s.IDHash, Current: s.IDHash == current, IP: s.IP, UserAgent: s.UserAgent,
			Created: s.CreatedAt.Time, LastSeen: s.LastSeenAt.Time,
		})
	}
	return a, nil
}

func (h *Handlers) tokensView(c echo.Context) (views.TokensView, error) {
	tv := views.TokensView{CSRF: CSRFToken(c)}
	ts, err := h.DB.ListTokens(c.Request().Context(), CurrentUser(c).ID)
	if err != nil {
		return tv, err
	}
	for _, t := range ts {
		tv.Tokens = append(tv.Tokens, views.TokenRow{ID: t.ID, Name: t.Name, Created: t.CreatedAt.Time, LastUsed: t.LastUsedAt.Time})
	}
	return tv, nil
}

func (h *Handlers) renderAccount(c echo.Context, status int, edit func(*views.AccountView)) error {
	return web.Render(c, status, h.accountPage(c, edit))
}

// accountPage is the account page, loaded when it is rendered.
func (h *Handlers) accountPage(c echo.Context, edit func(*views.AccountView)) templ.Component {
	return web.Deferred(func() (templ.Component, error) {
		a, err := h.accountView(c)
		if err != nil {
			return nil, err
		}
		if edit != nil {
			edit(&a)
		}
		p := h.Server.PageFor(c, "Your account")
		p.Nav = "account"
		return views.AccountPage(p, a), nil
	})
}

func (h *Handlers) showAccount(c echo.Context) error {
	return h.renderAccount(c, http.StatusOK, nil)
}

// changePassword checks the current password (failures count towards the
// sign-in throttle), stores the new one and ends every other session.
func (h *Handlers) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	f := views.PasswordForm{Current: c.FormValue("current_password"), New: c.FormValue("new_password")}
	fail := func(status int) error {
		f.Current, f.New = "", ""
		return h.renderAccount(c, status, func(a *views.AccountView) { a.Password = f })
	}
	if !f.Validate() {
		return fail(http.StatusUnprocessableEntity)
	}
	key := signInAccountKey(u.Email)
	if n, err := h.DB.CountAttempts(ctx, key, h.Auth.SignInWindow); err != nil {
		return err
	} else if n >= h.Auth.SignInFailures {
		f.Error = "Too many wrong passwords. Wait 15 minutes, then try again."
		return fail(http.StatusTooManyRequests)
	}
	ok, _, err := h.verifyPassword(ctx, f.Current, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		if err := h.DB.RecordAttempt(ctx, key); err != nil {
			return err
		}
		f.Errors.Set("current_password", "This is not your current password.")
		return fail(http.StatusUnprocessableEntity)
	}
	hash, err := h.hashPassword(ctx, f.New)
	if err != nil {
		return err
	}
	if err := h.DB.SetPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	except := ""
	if s := currentSession(c); s != nil {
		except = store.HashSessionID(s.ID)
	}
	if err := h.DB.DeleteUserSessions(ctx, u.ID, except); err != nil {
		return err
	}
	h.Logger.Info("password changed", "user", u.ID)
	if err := h.Flash(c, "Your password is changed. Every other session is signed out."); err != nil {
		return err
	}
	return web.Redirect(c, "/account")
}

// createToken makes an API token and shows it once, in this response only:
// it is never put in the session or anywhere else.
func (h *Handlers) createToken(c echo.Context) error {
	u := CurrentUser(c)
	f := views.TokenForm{Name: c.FormValue("name")}
	status := http.StatusCreated
	var plaintext string
	if f.Validate() {
		var err error
		plaintext, _, err = h.DB.CreateToken(c.Request().Context(), u.ID, f.Name)
		if err != nil {
			if apperr.Code(err) == apperr.Internal {
				return err
			}
			f.Apply(err)
		} else {
			h.Logger.Info("api token created", "user", u.ID)
			f.Name = ""
		}
	}
	if !f.OK() {
		status = http.StatusUnprocessableEntity
	}
	tokens := web.Deferred(func() (templ.Component, error) {
		tv, err := h.tokensView(c)
		if err != nil {
			return nil, err
		}
		tv.Form, tv.NewToken = f, plaintext
		return views.TokensSection(tv), nil
	})
	page := h.accountPage(c, func(a *views.AccountView) { a.Tokens.Form, a.Tokens.NewToken = f, plaintext })
	// The partial answers 200: its errors are in the section itself.
	return web.RenderEither(c, status, page, web.Swap{Component: tokens, Status: http.StatusOK})
}

func (h *Handlers) deleteToken(c echo.Context) error {
	u := CurrentUser(c)
	if err := h.DB.DeleteToken(c.Request().Context(), u.ID, c.Param("id")); err != nil {
		return err
	}
	h.Logger.Info("api token revoked", "user", u.ID)
	if err := h.Flash(c, "The token is revoked."); err != nil {
		return err
	}
	return web.Redirect(c, "/account")
}

// endSession ends one of the user's own sessions (looked up with its owner).
func (h *Handlers) endSession(c echo.Context) error {
	u := CurrentUser(c)
	id := c.Param("id")
	if s := currentSession(c); s != nil && store.HashSessionID(s.ID) == id {
		return h.logout(c)
	}
	if err := h.DB.DeleteUserSession(c.Request().Context(), u.ID, id); err != nil {
		return err
	}
	if err := h.Flash(c, "The session is ended."); err != nil {
		return err
	}
	return web.Redirect(c, "/account")
}
