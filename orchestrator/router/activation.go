package router

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// flight is one activation of a tenant, shared by every request that
// arrives while it runs.
type flight struct {
	done    chan struct{}
	started time.Time
	// by is what woke the tenant: the request that started the flight.
	by string
	// set before done is closed
	err   error
	ended time.Time
}

func (f *flight) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// flights holds the current or last activation of each tenant.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

func newFlights() *flights { return &flights{m: make(map[string]*flight)} }

func (fs *flights) get(tenantID string) *flight {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.m[tenantID]
}

func (fs *flights) forget(tenantID string) {
	fs.mu.Lock()
	delete(fs.m, tenantID)
	fs.mu.Unlock()
}

// activate returns the activation in flight for a tenant, starting one if
// there is none: however many requests arrive, one start. A recent failure
// is returned as is until the backoff has passed, so that a broken tenant
// is not restarted by every request.
func (rt *Router) activate(rte route.Route, by string) *flight {
	fs := rt.flights
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.m[rte.TenantID]; f != nil {
		if !f.finished() {
			return f
		}
		if f.err == nil {
			// The request read the table before this activation ended:
			// it is served by what the activation routed.
			if cur, ok := rt.routes.Get(rte.Slug); ok && cur.State == domain.StateRunning && len(cur.Backends) > 0 &&
				(cur.State != rte.State || !sameBackends(cur, rte)) {
				return f
			}
		}
		if f.err != nil && time.Since(f.ended) < rt.cfg.FailureBackoff {
			return f
		}
	}
	f := &flight{done: make(chan struct{}), started: time.Now(), by: by}
	fs.m[rte.TenantID] = f
	if !rt.spawn(func(base context.Context) { rt.runFlight(base, f, rte) }) {
		f.err = fmt.Errorf("activate %s: %w", rte.Slug, errStopped)
		f.ended = time.Now()
		close(f.done)
	}
	return f
}

func (rt *Router) runFlight(base context.Context, f *flight, rte route.Route) {
	release, admitErr := rt.admit(base, rte) // budget.go: may wait in the memory queue
	defer release()
	ctx, cancel := context.WithTimeout(base, rt.cfg.ActivationTimeout)
	defer cancel()
	start := rt.act.Activate
	if rs, ok := rt.act.(resumer); ok && rte.State == domain.StatePaused {
		start = rs.Resume
	}
	if admitErr != nil {
		start = func(context.Context, string) error { return admitErr }
	}
	err := rt.startWithin(ctx, start, rte)
	for err == nil && rt.routeIs(rte.Slug, domain.StatePassivating) {
		// The passivator took the route out of service, and this start
		// reached the tenant before its stop (or pause) did: it changed
		// nothing. Wait for the stop to end, then start the tenant again.
		if err = rt.waitRouteLeaves(ctx, rte.Slug, domain.StatePassivating); err == nil {
			err = rt.startWithin(ctx, rt.act.Activate, rte)
		}
	}
	if err == nil {
		if r, ok := rt.routes.Get(rte.Slug); !ok || r.State != domain.StateRunning || len(r.Backends) == 0 {
			err = fmt.Errorf("activate %s: no ready backend after activation", rte.Slug)
		}
	}
	if err == nil {
		// The activation has just seen the backends ready. Balancing state
		// from before it (replicas taken out when they refused a dial,
		// because they had been stopped behind our back) is stale: with the
		// same addresses and generation it would keep them out, and the held
		// requests would find no backend to go to.
		rt.proxy.pools.drop(rte.Slug)
	}
	f.err = err
	f.ended = time.Now()
	took := f.ended.Sub(f.started)
	close(f.done)
	if err != nil {
		rt.logger.Error("activation failed", slog.String("tenant", rte.Slug), slog.Duration("took", took), slog.Any("err", err))
		return
	}
	rt.logger.Info("tenant activated", slog.String("tenant", rte.Slug), slog.String("from", rte.State), slog.Duration("took", took))
	if rt.cfg.Activations != nil {
		if err := rt.cfg.Activations.RecordActivation(base, rte.TenantID, f.started, took, f.by); err != nil {
			rt.logger.Warn("record activation", slog.String("tenant", rte.Slug), slog.Any("err", err))
		}
	}
}

// activateThenServe serves a request for a sleeping tenant: a browser
// navigation gets the starting page at once (after a short wait for a
// paused tenant, which resumes in milliseconds), any other request is held,
// its body unread, until the tenant is ready, then proxied.
func (rt *Router) activateThenServe(w http.ResponseWriter, r *http.Request, rte route.Route) {
	f := rt.activate(rte, wokenBy(r))
	if f.finished() && f.err != nil {
		rt.activationFailed(w, r, rte)
		return
	}
	wait := rt.cfg.ActivationTimeout
	nav := isNavigation(r)
	if nav {
		if rte.State != domain.StatePaused {
			rt.starting(w, r, rte)
			return
		}
		wait = rt.cfg.PauseWait
	}
	switch rt.awaitFlight(r.Context(), f, rte.TenantID, wait) { // budget.go
	case requestGone:
		return
	case waitTimedOut:
		if nav {
			rt.starting(w, r, rte)
			return
		}
		w.Header().Set("Retry-After", "5")
		rt.cfg.Pages.Error(w, r, http.StatusServiceUnavailable, "This app is taking too long to start",
			fmt.Sprintf("%s did not start within %s. Try again in a moment.", titleOf(rte), rt.cfg.ActivationTimeout))
		return
	}
	if f.err != nil {
		rt.activationFailed(w, r, rte)
		return
	}
	next, ok := rt.routes.Get(rte.Slug)
	if !ok {
		rt.notFound(w, r)
		return
	}
	if next.State != domain.StateRunning || len(next.Backends) == 0 {
		rt.activationFailed(w, r, next)
		return
	}
	// The backends are fresh: a failed dial now is an error, not a reason
	// to start the tenant again.
	rt.proxy.serve(w, r, next, false)
}

func (rt *Router) activationFailed(w http.ResponseWriter, r *http.Request, rte route.Route) {
	if rt.refusedByBudget(w, r, rte) {
		return
	}
	w.Header().Set("Retry-After", "10")
	rt.cfg.Pages.Error(w, r, http.StatusServiceUnavailable, "This app could not be started",
		fmt.Sprintf("%s could not be started. Try again in a moment; if it keeps failing, contact its owner.", titleOf(rte)))
}

func titleOf(rte route.Route) string {
	if rte.Title != "" {
		return rte.Title
	}
	return rte.Slug
}

// Status is the JSON the starting page polls on the tenant host.
type Status struct {
	Ready   bool   `json:"ready"`
	Failed  bool   `json:"failed"`
	State   string `json:"state"`
	Message string `json:"message"`
	// Place and QueueLength tell a tenant waiting for memory where it is.
	Place       int `json:"queue_place,omitempty"`
	QueueLength int `json:"queue_length,omitempty"`
}

// status reports a tenant's readiness to the starting page, starting the
// tenant if nothing is under way (a page restored from a browser's cache).
func (rt *Router) status(w http.ResponseWriter, r *http.Request, rte route.Route) {
	st := rt.statusOf(rte)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(st)
}

func (rt *Router) statusOf(rte route.Route) Status {
	title := titleOf(rte)
	switch rte.State {
	case domain.StateRunning:
		// A route that says running while an activation is under way has
		// backends that stopped answering (killed behind our back): the
		// page waits for the activation, or it would reload onto them.
		if f := rt.flights.get(rte.TenantID); len(rte.Backends) > 0 && (f == nil || f.finished()) {
			return Status{Ready: true, State: rte.State, Message: title + " is ready."}
		}
	case domain.StateExpired:
		return Status{Failed: true, State: rte.State, Message: "The trial period of " + title + " is over."}
	case domain.StatePending, domain.StateBuilding, domain.StateDeploying:
		if st, ok := rt.queuedStatus(rte); ok {
			return st
		}
		return Status{State: rte.State, Message: title + " is being deployed…"}
	}
	f := rt.activate(rte, "the starting page")
	if st, ok := rt.budgetStatus(rte, f); ok {
		return st
	}
	if f.finished() {
		if f.err != nil {
			return Status{Failed: true, State: domain.StateFailed, Message: title + " could not be started. Try again in a moment."}
		}
		return Status{Ready: true, State: domain.StateRunning, Message: title + " is ready."}
	}
	secs := int(time.Since(f.started).Seconds())
	msg := "Starting " + title + "…"
	if secs >= 1 {
		msg = fmt.Sprintf("Starting %s… (%d s)", title, secs)
	}
	return Status{State: "activating", Message: msg}
}

// startWithin runs one start of a tenant and returns its error, or ctx's
// once ctx ends. The activator may finish a start it has begun after ctx
// ends (a half started stack helps nobody); the waiting requests do not
// wait for it, but Run does (the count taken here is within the flight's
// own).
func (rt *Router) startWithin(ctx context.Context, start func(context.Context, string) error, rte route.Route) error {
	res := make(chan error, 1)
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		res <- start(ctx, rte.TenantID)
	}()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return fmt.Errorf("activate %s: %w", rte.Slug, ctx.Err())
	}
}

// routeIs reports whether a tenant's route is in a state.
func (rt *Router) routeIs(slug, state string) bool {
	r, ok := rt.routes.Get(slug)
	return ok && r.State == state
}

// waitRouteLeaves waits until a tenant's route leaves a state (or goes).
func (rt *Router) waitRouteLeaves(ctx context.Context, slug, state string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for rt.routeIs(slug, state) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("activate %s: waiting for its stop to end: %w", slug, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
