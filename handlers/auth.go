package handlers

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// AuthConfig tunes sessions and throttles; zero fields take the defaults.
type AuthConfig struct {
	// SessionIdle ends a session unused this long (default 24 h).
	SessionIdle time.Duration
	// SessionLifetime ends any session this long after sign-in (default 7 days).
	SessionLifetime time.Duration
	// SignInFailures failed sign-ins per account, and per client address,
	// within SignInWindow get 429 (default 10 in 15 minutes).
	SignInFailures int
	SignInWindow   time.Duration
	// SignUps per client address within SignUpWindow (default 20 an hour).
	SignUps      int
	SignUpWindow time.Duration
	// Hashing caps concurrent password hashes, each of which holds 19 MiB
	// (default 4).
	Hashing int
}

func (a *AuthConfig) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	set(&a.SessionIdle, 24*time.Hour)
	set(&a.SessionLifetime, 7*24*time.Hour)
	set(&a.SignInWindow, 15*time.Minute)
	set(&a.SignUpWindow, time.Hour)
	setInt(&a.SignInFailures, 10)
	setInt(&a.SignUps, 20)
	setInt(&a.Hashing, 4)
}

// Context keys of the request's session and user.
const (
	ctxSession = "af.session"
	ctxUser    = "af.user"
)

// registerAccounts installs the session, CSRF and role middleware and the
// routes of sign-up, sign-in, the account page and user administration.
func (h *Handlers) registerAccounts(e *echo.Echo) {
	h.Auth.defaults()
	h.hashing = make(chan struct{}, h.Auth.Hashing)
	h.sessions = &SessionStore{
		DB: h.DB,
		Options: sessions.Options{
			Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.Server.TLS(),
		},
		Idle: h.Auth.SessionIdle, Lifetime: h.Auth.SessionLifetime,
	}
	h.Server.PageFor = h.pageFor
	e.Use(h.loadSession, h.csrfProtect, h.guardPaths)

	e.GET("/signup", h.signupPage)
	e.POST("/signup", h.signup)
	e.GET("/login", h.loginPage)
	e.POST("/login", h.login)
	e.POST("/logout", h.logout)
	e.GET("/logout", h.logoutPage)
	e.POST("/logout/everywhere", h.logoutEverywhere, h.RequireUser)

	acct := e.Group("/account", h.RequireUser)
	acct.GET("", h.showAccount)
	acct.POST("/password", h.changePassword)
	acct.POST("/tokens", h.createToken)
	// A refused form is shown at the address it was posted to; going back
	// to that address (or reloading it later) lands on the account page.
	toAccount := func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/account") }
	acct.GET("/password", toAccount)
	acct.GET("/tokens", toAccount)
	acct.POST("/tokens/:id/delete", h.deleteToken)
	acct.POST("/sessions/:id/delete", h.endSession)

	adm := e.Group("/admin/users", h.RequireRole(store.RoleAdmin))
	adm.GET("", h.adminUsers)
	adm.POST("/:id/role", h.adminSetRole)
	adm.POST("/:id/sessions/delete", h.adminEndSessions)
	adm.POST("/:id/disable", h.adminDisable)
	adm.POST("/:id/enable", h.adminEnable)

	e.GET("/api/v1/me", h.apiMe, h.APIAuth)
}

// CurrentUser is the signed-in user of the request (by session or API
// token), nil for visitors.
func CurrentUser(c echo.Context) *store.User {
	u, _ := c.Get(ctxUser).(*store.User)
	return u
}

func currentSession(c echo.Context) *sessions.Session {
	s, _ := c.Get(ctxSession).(*sessions.Session)
	if s == nil || s.ID == "" {
		return nil
	}
	return s
}

// portalPath reports whether a path is served with sessions: everything but
// static files, health and the API (which authenticates by token only).
func portalPath(p string) bool {
	return !domain.IsAPIPath(p) && !hasPrefixPath(p, "/static") && p != "/healthz"
}

// hasPrefixPath reports whether p is prefix or below it ("/apps" matches
// "/apps" and "/apps/x", not "/appsx").
func hasPrefixPath(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// loadSession loads the session and its user for every portal request, and
// authenticates API requests by bearer token. A disabled or deleted user's
// session is ended.
func (h *Handlers) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if p == openAPIPath {
			return next(c) // the API's description holds no data: anyone may read it
		}
		if hasPrefixPath(p, "/api/v1") {
			return h.apiAuthenticate(c, next)
		}
		if !portalPath(p) {
			return next(c)
		}
		r := c.Request()
		sess, err := h.sessions.Get(r, SessionCookie)
		if err != nil {
			h.Logger.Warn("load session", "err", err)
			return err
		}
		c.Set(ctxSession, sess)
		if uid, _ := sess.Values[keyUserID].(string); uid != "" {
			u, err := h.DB.UserByID(r.Context(), uid)
			switch {
			case err == nil && !u.Disabled:
				c.Set(ctxUser, u)
			case err == nil || apperr.Code(err) == apperr.NotFound:
				if err := h.endCurrentSession(c); err != nil {
					return err
				}
			default:
				return err
			}
		}
		if err := h.sessions.touch(r.Context(), sess); err != nil && apperr.Code(err) != apperr.NotFound {
			h.Logger.Warn("touch session", "err", err)
		}
		return next(c)
	}
}

// pathRule gives the roles allowed below a path prefix (none listed: any
// signed-in user).
type pathRule struct {
	prefix string
	roles  []string
}

// pathRules protect whole areas, whatever routes they hold or will hold.
func pathRules() []pathRule {
	return []pathRule{
		{"/admin", []string{store.RoleAdmin}},
		{"/sales", []string{store.RoleSales, store.RoleAdmin}},
		{"/apps", nil},
		{"/tenants", nil},
		{"/account", nil},
	}
}

// guardPaths applies pathRules to every portal request.
func (h *Handlers) guardPaths(next echo.HandlerFunc) echo.HandlerFunc {
	rules := pathRules()
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		for _, r := range rules {
			if hasPrefixPath(p, r.prefix) {
				return h.RequireRole(r.roles...)(next)(c)
			}
		}
		return next(c)
	}
}

// RequireUser sends visitors to the sign-in page (303, or HX-Redirect for
// htmx) with ?next= set to the page they wanted.
func (h *Handlers) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return h.RequireRole()(next)
}

// RequireRole lets through signed-in users with one of roles (any role when
// none are given); visitors are sent to sign in, others get 403 (a page, or
// the JSON error under /api).
func (h *Handlers) RequireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := CurrentUser(c)
			if u == nil {
				if domain.IsAPIPath(c.Request().URL.Path) {
					return apiUnauthorized(c, "Sign in with an API token: Authorization: Bearer <token>.")
				}
				return web.Redirect(c, loginURL(c))
			}
			if len(roles) > 0 && !slices.Contains(roles, u.Role) {
				return apperr.New(apperr.Forbidden, "Your account does not have access to this page.")
			}
			return next(c)
		}
	}
}

// loginURL is /login?next=<the requested page>, for GETs; other requests
// come back to the page they were sent from (kept local).
func loginURL(c echo.Context) string {
	r := c.Request()
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = ""
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			next = ref.RequestURI()
		}
	}
	if !SafeNext(next) || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// SafeNext reports whether a redirect target stays on this site: a path
// starting with one "/" (not "//" or "/\", which browsers read as another
// host) and free of control characters.
func SafeNext(next string) bool {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return false
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return false
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return false
		}
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// pageFor fills the layout's model: the user's badge, the CSRF token and a
// flash message (taken from the session once).
func (h *Handlers) pageFor(c echo.Context, title string) views.Page {
	p := views.Page{Title: title, CSRF: CSRFToken(c)}
	if u := CurrentUser(c); u != nil {
		p.User = &views.UserBadge{ID: u.ID, Name: displayName(u), Email: u.Email, Role: u.Role}
	}
	if s := currentSession(c); s != nil {
		if f, _ := s.Values[keyFlash].(string); f != "" {
			delete(s.Values, keyFlash)
			if err := h.sessions.Save(c.Request(), c.Response(), s); err != nil {
				h.Logger.Warn("save session", "err", err)
			}
			p.Flash = f
		}
	}
	return p
}

func displayName(u *store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// EnsureSession gives a visitor a session (and so a CSRF token) before a
// page with a form is rendered.
func (h *Handlers) EnsureSession(c echo.Context) error {
	if currentSession(c) != nil {
		return nil
	}
	s := h.newSession()
	if err := h.sessions.Save(c.Request(), c.Response(), s); err != nil {
		return err
	}
	c.Set(ctxSession, s)
	return nil
}

func (h *Handlers) newSession() *sessions.Session {
	s := sessions.NewSession(h.sessions, SessionCookie)
	opts := h.sessions.Options
	s.Options = &opts
	s.IsNew = true
	return s
}

// Flash stores a message shown once on the next page.
func (h *Handlers) Flash(c echo.Context, msg string) error {
	if err := h.EnsureSession(c); err != nil {
		return err
	}
	s := currentSession(c)
	s.Values[keyFlash] = msg
	return h.sessions.Save(c.Request(), c.Response(), s)
}

// signIn starts a fresh session for u (a new id, so a session planted
// before sign-in is worth nothing) and records the sign-in.
func (h *Handlers) signIn(c echo.Context, u *store.User) error {
	if err := h.endCurrentSession(c); err != nil {
		return err
	}
	s := h.newSession()
	s.Values[keyUserID] = u.ID
	if err := h.sessions.Save(c.Request(), c.Response(), s); err != nil {
		return err
	}
	c.Set(ctxSession, s)
	c.Set(ctxUser, u)
	if err := h.DB.RecordLogin(c.Request().Context(), u.ID); err != nil {
		return err
	}
	h.Logger.Info("signed in", "user", u.ID)
	h.warmOwned(c.Request().Context(), u, "its owner signed in")
	return nil
}

// endCurrentSession deletes the request's session row and expires its cookie.
func (h *Handlers) endCurrentSession(c echo.Context) error {
	s := currentSession(c)
	c.Set(ctxUser, nil)
	if s == nil {
		return nil
	}
	s.Options.MaxAge = -1
	err := h.sessions.Save(c.Request(), c.Response(), s)
	c.Set(ctxSession, nil)
	return err
}

// clientIP is the request's peer address (the portal trusts no forwarding
// header; see web.Server's IP extractor).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
