// Package web is appfactory's HTTP server: echo with its middleware, the
// error pages, static files, and the host dispatch between the portal and
// the tenant router.
package web

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/static"
	"appfactory/views"
	"appfactory/web/lean"
)

// Options configure the server.
type Options struct {
	// Addr is the listen address, like ":8080".
	Addr string
	// Domain is the portal's host name; tenants live at <slug>.<Domain>.
	Domain string
	// TLS tells the middleware that the portal is served over HTTPS (Secure
	// cookies, HSTS).
	TLS    bool
	Logger *slog.Logger
}

// Server is the portal and the tenant router behind one listener.
type Server struct {
	opts   Options
	echo   *echo.Echo
	http   *http.Server
	lean   *lean.Server
	logger *slog.Logger
	// tenants serves <slug>.<domain>; until one is set every tenant host is unknown.
	tenants http.Handler
	hosts   portalHosts
	// PageFor builds the layout's view model for a request (user, CSRF
	// token); the accounts handlers replace the default.
	PageFor func(c echo.Context, title string) views.Page
}

// New returns a server with the portal's middleware and static files in place.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{opts: opts, echo: e, logger: opts.Logger, hosts: newPortalHosts(opts.Domain, opts.Addr)}
	s.PageFor = func(_ echo.Context, title string) views.Page { return views.Page{Title: title} }
	s.tenants = http.HandlerFunc(s.unknownTenant)
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(s.recoverer, s.requestLog, s.securityHeaders)
	e.StaticFS("/static", static.FS)
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	s.http = &http.Server{
		Addr:              opts.Addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	s.lean = &lean.Server{Handler: s.http.Handler, Take: s.leanRequest, Fallback: s.http}
	return s
}

// Echo is the portal's router, for handlers to register their routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Domain is the portal's host name.
func (s *Server) Domain() string { return s.opts.Domain }

// TLS reports whether the portal is served over HTTPS (Secure cookies).
func (s *Server) TLS() bool { return s.opts.TLS }

// SetTenantRouter installs the handler for tenant hosts.
func (s *Server) SetTenantRouter(h http.Handler) { s.tenants = h }

// SetTenantFast installs the router's raw path (lean.Server's Fast): the
// requests it answers from their head never reach the handlers.
func (s *Server) SetTenantFast(fast func(ctx context.Context, head []byte, remote string, w *bufio.Writer) (served, keep bool, next context.Context)) {
	s.lean.Fast = fast
}

// Handler dispatches by host: <slug>.<domain> to the tenant router, the
// portal's own hosts to the portal (behind cross-origin protection), and
// any other host to a 404, as Traefik and Caddy answer a host they do not
// serve. Liveness answers on every host, for probes that dial an address.
func (s *Server) Handler() http.Handler {
	portal := http.NewCrossOriginProtection().Handler(s.echo)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := TenantSlug(r.Host, s.opts.Domain); ok {
			s.tenants.ServeHTTP(w, r)
			return
		}
		if !s.hosts.portal(r.Host) && r.URL.Path != "/healthz" {
			s.unknownHost(w, r)
			return
		}
		portal.ServeHTTP(w, r)
	})
}

// leanRequest reports whether the lean loop serves a request: a plain
// GET or HEAD (lean.Plain) to a tenant host. Everything else, the portal
// above all, is net/http's.
func (s *Server) leanRequest(r *http.Request) bool {
	_, ok := TenantSlug(r.Host, s.opts.Domain)
	return ok && lean.Plain(r)
}

// ListenAndServe serves until ctx is cancelled, then shuts down gracefully:
// in-flight requests get up to grace to finish.
func (s *Server) ListenAndServe(ctx context.Context, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.lean.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.lean.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}

// RegisterOnShutdown runs f when the server starts shutting down (to end
// long-lived streams such as server-sent events).
func (s *Server) RegisterOnShutdown(f func()) { s.http.RegisterOnShutdown(f) }

func (s *Server) unknownHost(w http.ResponseWriter, r *http.Request) {
	WriteTenantError(w, r, http.StatusNotFound, "No such site",
		"This server does not serve the address you asked for. Check the link, or ask whoever sent it for the right one.")
}

func (s *Server) unknownTenant(w http.ResponseWriter, r *http.Request) {
	WriteTenantError(w, r, http.StatusNotFound, "No such app", "There is no app at this address. It may have been deleted, or the link may be mistyped.")
}
