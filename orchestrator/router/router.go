// Package router serves tenant hosts: it maps <slug>.<domain> to the
// tenant's ready backends from the route table, balances and health-checks
// them, and starts (or resumes) a sleeping tenant once for any number of
// waiting requests.
package router

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/route"
)

// activator starts a tenant's stack (or resumes a paused one) and returns
// once its routed service answers, with the route table updated.
type activator interface {
	Activate(ctx context.Context, tenantID string) error
}

// resumer wakes a paused tenant faster than a full activation.
type resumer interface {
	Resume(ctx context.Context, tenantID string) error
}

// activationRecorder keeps the duration of each activation for the charts.
type activationRecorder interface {
	RecordActivation(ctx context.Context, tenantID string, at time.Time, took time.Duration, by string) error
}

// ReservedPrefix is the path on every tenant host that the router answers
// itself (status of an activation, the starting page's CSS and JS).
const ReservedPrefix = "/__appfactory/"

// Pages draws what the router answers itself; the web package provides them
// so that the orchestrator holds no markup.
type Pages struct {
	// Error writes an error page (browsers) or JSON error (API clients).
	Error func(w http.ResponseWriter, r *http.Request, status int, heading, message string)
	// Starting writes the "Starting <title>..." page that polls statusURL.
	Starting func(w http.ResponseWriter, r *http.Request, status int, title, statusURL string)
}

// RouterConfig configures the tenant router.
type RouterConfig struct {
	// Slug maps a Host header to a tenant slug; the portal's host dispatch
	// uses the same function.
	Slug func(host string) (string, bool)
	// StripCookies are the names of the portal's cookies, never forwarded
	// to a tenant. Default: af_session.
	StripCookies []string
	// TLS says that clients reach us over HTTPS (X-Forwarded-Proto https).
	TLS bool
	// ActivationTimeout bounds an activation and the wait of every held
	// request (default 60 s).
	ActivationTimeout time.Duration
	// FailureBackoff is how long a failed activation is reported as failed
	// before a request may try again (default 5 s).
	FailureBackoff time.Duration
	// PauseWait is how long a browser navigation on a paused tenant is held
	// before it gets the starting page: resuming takes milliseconds.
	PauseWait time.Duration
	// DialTimeout, ResponseHeaderTimeout and MaxIdleConnsPerHost tune the
	// transport to the backends.
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	MaxIdleConnsPerHost   int
	// Dial connects to a backend (default net.Dialer's): the runtime's,
	// where it is a runtime.Dialer.
	Dial ready.DialFunc
	// ReprobeInterval is how often a backend taken out after a failed dial
	// is probed again (default 1 s).
	ReprobeInterval time.Duration
	// HealthInterval is how often the readiness path of every backend of a
	// running route is checked (default 2 s); HealthTimeout bounds one
	// check (default 500 ms); a backend is taken out after HealthFailures
	// failed checks in a row (default 2).
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	HealthFailures int
	Pages          Pages
	// Static serves the portal's static files on tenant hosts under
	// /__appfactory/static/ (the prefix already stripped).
	Static http.Handler
	// BotAgents adds User-Agent pieces to DefaultBotAgents: requests that
	// carry one never wake a sleeping tenant nor count as its activity.
	BotAgents []string
	// Budget is the host's memory budget every activation waits for
	// (optional: nil starts at once).
	Budget admitter
	// Answered counts the status of each answer the raw path gives
	// (optional: ServeHTTP's answers are counted around it).
	Answered func(status int)
	// Activations records each activation's duration (optional).
	Activations activationRecorder
	// Events records each warm-up with its reason (optional).
	Events eventRecorder
	Logger *slog.Logger
}

func (c *RouterConfig) defaults() {
	if len(c.StripCookies) == 0 {
		c.StripCookies = []string{"af_session"}
	}
	if c.ActivationTimeout <= 0 {
		c.ActivationTimeout = 60 * time.Second
	}
	if c.FailureBackoff <= 0 {
		c.FailureBackoff = 5 * time.Second
	}
	if c.PauseWait <= 0 {
		c.PauseWait = 2 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 3 * time.Second
	}
	if c.ResponseHeaderTimeout <= 0 {
		c.ResponseHeaderTimeout = 60 * time.Second
	}
	if c.MaxIdleConnsPerHost <= 0 {
		c.MaxIdleConnsPerHost = 256
	}
	if c.ReprobeInterval <= 0 {
		c.ReprobeInterval = time.Second
	}
	if c.HealthInterval <= 0 {
		c.HealthInterval = 2 * time.Second
	}
	if c.HealthTimeout <= 0 {
		c.HealthTimeout = 500 * time.Millisecond
	}
	if c.HealthFailures <= 0 {
		c.HealthFailures = 2
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Pages.Error == nil {
		c.Pages.Error = plainError
	}
	if c.Pages.Starting == nil {
		c.Pages.Starting = plainStarting
	}
	if c.Static == nil {
		c.Static = http.NotFoundHandler()
	}
}

// Router serves tenant hosts: it proxies each request to a ready replica of
// the tenant's routed service, from the in-memory route table, and activates
// a sleeping tenant on its first request.
type Router struct {
	cfg      RouterConfig
	routes   *route.Routes
	act      activator
	activity *route.Activity
	proxy    *proxy
	flights  *flights
	logger   *slog.Logger
	bots     botMatcher

	// Background work (activations, re-probes) runs under Run's context:
	// base is set, and started closed, when Run begins; stopped is set,
	// under mu, once Run's context has ended, after which no work starts
	// and Run awaits wg.
	mu      sync.Mutex
	base    context.Context
	started chan struct{}
	running bool
	stopped bool
	wg      sync.WaitGroup
}

// NewRouter returns a router over the route table; act starts sleeping
// tenants and activity records every proxied request. Run does its
// background work (health checks, activations, re-probes).
func NewRouter(cfg RouterConfig, routes *route.Routes, act activator, activity *route.Activity) *Router {
	cfg.defaults()
	rt := &Router{cfg: cfg, routes: routes, act: act, activity: activity, logger: cfg.Logger, started: make(chan struct{}),
		bots: newBotMatcher(cfg.BotAgents)}
	rt.flights = newFlights()
	rt.proxy = newProxy(rt)
	routes.Subscribe(func(r route.Route, present bool) {
		if !present {
			rt.proxy.pools.drop(r.Slug)
			rt.flights.forget(r.TenantID)
		}
	})
	return rt
}

// ServeHTTP routes one request for a tenant host.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug, ok := rt.cfg.Slug(r.Host)
	if !ok {
		rt.notFound(w, r)
		return
	}
	rte, ok := rt.routes.Get(slug)
	if !ok {
		rt.notFound(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, ReservedPrefix) {
		rt.serveReserved(w, r, rte)
		return
	}
	quiet := rt.bots.quiet(r)
	defer rt.begin(rte.TenantID, quiet, func() string { return wokenBy(r) })()
	// Read again now that the request counts as in flight: the passivator
	// takes a route out of service before it looks at the tenant's requests
	// one last time, so a request either holds the tenant awake or sees the
	// route stopping and waits for its activation, never reaching a backend
	// that is being stopped.
	if again, ok := rt.routes.Get(slug); ok && again.TenantID == rte.TenantID {
		rte = again
	}
	if f, ok := r.Context().Value(rawFailureKey{}).(*rawFailure); ok {
		// The raw path met a failure before it wrote anything.
		rt.proxy.failed(w, r, f.st, f.err)
		return
	}
	switch {
	case rte.State == domain.StateRunning && len(rte.Backends) > 0:
		rt.proxy.serve(w, r, rte, true)
	case rte.State == domain.StateExpired:
		rt.cfg.Pages.Error(w, r, http.StatusGone, "This trial has ended",
			"The trial period of this app is over. Ask your contact to extend it.")
	case rte.State == domain.StatePending || rte.State == domain.StateBuilding || rte.State == domain.StateDeploying:
		rt.deploying(w, r, rte)
	case quiet:
		// A crawler or monitor never starts a sleeping tenant.
		rt.asleep(w, r)
	default:
		rt.activateThenServe(w, r, rte)
	}
}

// begin counts a request as the tenant's activity (a quiet one as in
// flight only) and, now and then, notes what it was (what describes it);
// the function it returns ends the request.
func (rt *Router) begin(tenantID string, quiet bool, what func() string) (end func()) {
	if quiet {
		return rt.activity.BeginQuiet(tenantID)
	}
	end = rt.activity.Begin(tenantID)
	if rt.activity.NoteDue(tenantID) {
		rt.activity.Note(tenantID, what())
	}
	return end
}

func (rt *Router) notFound(w http.ResponseWriter, r *http.Request) {
	rt.cfg.Pages.Error(w, r, http.StatusNotFound, "No such app",
		"There is no app at this address. It may have been deleted, or the link may be mistyped.")
}

// deploying answers for a tenant that has never run yet: a browser waits on
// the starting page, other clients get a 503 to retry.
func (rt *Router) deploying(w http.ResponseWriter, r *http.Request, rte route.Route) {
	if isNavigation(r) {
		rt.starting(w, r, rte)
		return
	}
	w.Header().Set("Retry-After", "5")
	rt.cfg.Pages.Error(w, r, http.StatusServiceUnavailable, "This app is being deployed",
		"The app is still being built and deployed. Try again in a moment.")
}

func (rt *Router) starting(w http.ResponseWriter, r *http.Request, rte route.Route) {
	h := w.Header()
	h.Set("Retry-After", "1")
	h.Set("Cache-Control", "no-store")
	title := rte.Title
	if title == "" {
		title = rte.Slug
	}
	rt.cfg.Pages.Starting(w, r, http.StatusServiceUnavailable, title, ReservedPrefix+"status")
}

// serveReserved answers the router's own paths on a tenant host.
func (rt *Router) serveReserved(w http.ResponseWriter, r *http.Request, rte route.Route) {
	rest := strings.TrimPrefix(r.URL.Path, ReservedPrefix)
	switch {
	case rest == "status" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		rt.status(w, r, rte)
	case strings.HasPrefix(rest, "static/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(rest, "static")
		r2.URL.RawPath = ""
		// Portal cookies are not sent along, and nothing here needs a client's.
		r2.Header.Del("Cookie")
		w.Header().Set("Cache-Control", "public, max-age=300")
		rt.cfg.Static.ServeHTTP(w, r2)
	default:
		rt.notFound(w, r)
	}
}

// isNavigation reports whether a request is a browser loading a page, which
// gets the starting page rather than being held.
func isNavigation(r *http.Request) bool {
	return navigation(r.Method, r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Accept"))
}

// navigation is isNavigation of a request's method and headers.
func navigation(method, fetchMode, accept string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	if fetchMode != "" && fetchMode != "navigate" {
		return false
	}
	return strings.Contains(accept, "text/html")
}

// plainError is the default error page when no Pages are configured.
func plainError(w http.ResponseWriter, _ *http.Request, status int, heading, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(heading + "\n\n" + message + "\n"))
}

// plainStarting is the default starting page when no Pages are configured.
func plainStarting(w http.ResponseWriter, _ *http.Request, status int, title, _ string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("Starting " + title + "...\n"))
}
