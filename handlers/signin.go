package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/accounts"
	"appfactory/apperr"
	"appfactory/password"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// afterSignIn is where a user lands by default.
const afterSignIn = "/apps"

// dummyHash is verified against when an email has no account, so that a
// sign-in takes as long whether or not the account exists.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$kocpyC+Dnz+okmCHqsuKxA$WQKCyByQob9PRSfYWF3deJq9/V5l+CD0bxxWde816e8"

// Throttle keys of auth_attempts.
func signInAccountKey(email string) string { return "signin-acct:" + store.NormalizeEmail(email) }
func signInIPKey(ip string) string         { return "signin-ip:" + ip }

func (h *Handlers) signupPage(c echo.Context) error {
	if CurrentUser(c) != nil {
		return web.Redirect(c, afterSignIn)
	}
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	return h.renderSignup(c, http.StatusOK, views.SignupForm{})
}

func (h *Handlers) renderSignup(c echo.Context, status int, f views.SignupForm) error {
	f.Password = ""
	return web.RenderEither(c, status, views.SignupPage(h.Server.PageFor(c, "Start your free trial"), f), views.SignupFormView(CSRFToken(c), f))
}

func (h *Handlers) signup(c echo.Context) error {
	f := views.SignupForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Company: c.FormValue("company"), Password: c.FormValue("password")}
	if !f.Validate() {
		return h.renderSignup(c, http.StatusUnprocessableEntity, f)
	}
	old, sess := currentSession(c), h.newSession()
	var sessID string
	req := accounts.SignUp{Name: f.Name, Email: f.Email, Company: f.Company, Password: f.Password, IP: c.RealIP(),
		Session: func(userID string) (*store.Session, error) {
			sess.Values[keyUserID] = userID
			id, row, err := h.sessions.newRow(c.Request(), sess)
			sessID = id
			return row, err
		}}
	if old != nil && old.ID != "" {
		req.ReplacesHash = store.HashSessionID(old.ID)
	}
	u, err := h.accounts().SignUp(c.Request().Context(), req)
	switch code := apperr.Code(err); {
	case err == nil:
	case code == apperr.TooMany:
		f.Error = apperr.Message(err)
		return h.renderSignup(c, http.StatusTooManyRequests, f)
	case code == apperr.Conflict:
		f.Errors.Set("email", "An account with this email already exists. Sign in instead.")
		return h.renderSignup(c, http.StatusConflict, f)
	case code == apperr.Internal:
		return err
	default:
		f.Apply(err)
		return h.renderSignup(c, web.Status(code), f)
	}
	// The visitor's session row went with the write: expire its cookie,
	// then hand out the new one.
	if old != nil {
		old.ID, old.Options.MaxAge = "", -1
		if err := h.sessions.Save(c.Request(), c.Response(), old); err != nil {
			return err
		}
	}
	h.sessions.issue(c.Response(), sess, sessID)
	c.Set(ctxSession, sess)
	c.Set(ctxUser, u)
	h.Logger.Info("signed in", "user", u.ID)
	// The account stands without its confirmation mail: a failure is
	// logged, and the account page sends it again.
	if err := h.sendVerification(c.Request().Context(), u); err != nil {
		h.Logger.Error("mail the email confirmation", "user", u.ID, "err", err)
	}
	return web.Redirect(c, afterSignIn)
}

// accounts is the sign-up workflow over the handlers' database and
// throttle settings, hashing with the handlers' throttled hasher.
func (h *Handlers) accounts() *accounts.Service {
	return &accounts.Service{DB: h.DB, HashPassword: h.hashPassword, SignUps: h.Auth.SignUps, SignUpWindow: h.Auth.SignUpWindow, Logger: h.Logger}
}

func (h *Handlers) loginPage(c echo.Context) error {
	next := c.QueryParam("next")
	if !SafeNext(next) {
		next = ""
	}
	if CurrentUser(c) != nil {
		return web.Redirect(c, orDefault(next, afterSignIn))
	}
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	return h.renderLogin(c, http.StatusOK, views.LoginForm{Next: next})
}

func (h *Handlers) renderLogin(c echo.Context, status int, f views.LoginForm) error {
	f.Password = ""
	return web.RenderEither(c, status, views.LoginPage(h.Server.PageFor(c, "Sign in"), f), views.LoginFormView(CSRFToken(c), f))
}

// badCredentials is the one answer to a wrong email or a wrong password, so
// that sign-in never tells whether an account exists.
const badCredentials = "The email or password is not right."

func (h *Handlers) login(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.LoginForm{Email: c.FormValue("email"), Password: c.FormValue("password"), Next: c.FormValue("next")}
	if !SafeNext(f.Next) {
		f.Next = ""
	}
	if !f.Validate() {
		return h.renderLogin(c, http.StatusUnprocessableEntity, f)
	}
	acctKey, ipKey := signInAccountKey(f.Email), signInIPKey(c.RealIP())
	for _, key := range []string{acctKey, ipKey} {
		n, err := h.DB.CountAttempts(ctx, key, h.Auth.SignInWindow)
		if err != nil {
			return err
		}
		if n >= h.Auth.SignInFailures {
			h.Logger.Warn("sign-in throttled", "ip", c.RealIP())
			f.Error = "Too many failed sign-ins. Wait 15 minutes, then try again."
			return h.renderLogin(c, http.StatusTooManyRequests, f)
		}
	}
	u, ok, err := h.checkPassword(ctx, f.Email, f.Password)
	if err != nil {
		return err
	}
	if !ok {
		for _, key := range []string{acctKey, ipKey} {
			if err := h.DB.RecordAttempt(ctx, key); err != nil {
				return err
			}
		}
		h.Logger.Info("sign-in failed", "ip", c.RealIP())
		f.Error = badCredentials
		return h.renderLogin(c, http.StatusUnauthorized, f)
	}
	if u.Disabled {
		f.Error = "This account is disabled. Contact us to have it enabled again."
		return h.renderLogin(c, http.StatusForbidden, f)
	}
	if err := h.DB.ClearAttempts(ctx, acctKey); err != nil {
		return err
	}
	if err := h.signIn(c, u); err != nil {
		return err
	}
	return web.Redirect(c, orDefault(f.Next, afterSignIn))
}

// checkPassword verifies an email's password, upgrading the stored hash
// when its parameters are older than the current ones. An unknown email
// costs as much time as a known one.
func (h *Handlers) checkPassword(ctx context.Context, email, pw string) (*store.User, bool, error) {
	u, err := h.DB.UserByEmail(ctx, email)
	if err != nil && apperr.Code(err) != apperr.NotFound {
		return nil, false, err
	}
	encoded := dummyHash
	if u != nil {
		encoded = u.PasswordHash
	}
	ok, rehash, err := h.verifyPassword(ctx, pw, encoded)
	if err != nil {
		return nil, false, err
	}
	if u == nil || !ok {
		return nil, false, nil
	}
	if rehash {
		if hash, err := h.hashPassword(ctx, pw); err != nil {
			h.Logger.Warn("rehash password", "user", u.ID, "err", err)
		} else if err := h.DB.SetPassword(ctx, u.ID, hash); err != nil {
			h.Logger.Warn("store rehashed password", "user", u.ID, "err", err)
		} else {
			h.Logger.Info("password rehashed with current parameters", "user", u.ID)
		}
	}
	return u, true, nil
}

// hashPassword and verifyPassword hold a slot of h.hashing while they run,
// so that a burst of sign-ins cannot take 19 MiB each at once.
func (h *Handlers) hashPassword(ctx context.Context, pw string) (string, error) {
	if err := h.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer func() { <-h.hashing }()
	return password.Hash(pw)
}

func (h *Handlers) verifyPassword(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if err := h.acquireHashing(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-h.hashing }()
	return password.Verify(pw, encoded)
}

func (h *Handlers) acquireHashing(ctx context.Context) error {
	select {
	case h.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Handlers) logout(c echo.Context) error {
	if u := CurrentUser(c); u != nil {
		h.Logger.Info("signed out", "user", u.ID)
	}
	if err := h.endCurrentSession(c); err != nil {
		return err
	}
	return web.Redirect(c, "/")
}

// logoutPage answers a typed or bookmarked /logout: a visitor goes home, a
// signed-in person gets a button that signs out.
func (h *Handlers) logoutPage(c echo.Context) error {
	if CurrentUser(c) == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return web.Render(c, http.StatusOK, views.LogoutPage(h.Server.PageFor(c, "Sign out")))
}

func (h *Handlers) logoutEverywhere(c echo.Context) error {
	u := CurrentUser(c)
	if err := h.DB.DeleteUserSessions(c.Request().Context(), u.ID, ""); err != nil {
		return err
	}
	h.Logger.Info("signed out everywhere", "user", u.ID)
	if err := h.endCurrentSession(c); err != nil {
		return err
	}
	return web.Redirect(c, "/login")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
