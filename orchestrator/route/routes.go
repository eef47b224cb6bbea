// Package route is the in-memory route table and the activity tracker: what
// the router needs to serve a tenant host, and when each tenant last served a
// request. The reconciler writes routes, the router reads them, the
// passivator and the monitor watch them; it imports none of them.
package route

import (
	"sync"
)

// Route is what the router needs to serve one tenant host, kept in memory
// so that no request queries the database.
type Route struct {
	TenantID string
	Slug     string
	// Title is the app's title, for the "Starting ..." page.
	Title string
	// State is the tenant's actual state (running, passivated, paused, ...).
	State string
	// Backends are the host:port addresses of the routed service's ready
	// replicas on the tenant network; empty while the tenant is not running.
	Backends []string
	// Readiness is the routed service's readiness path, like "/healthz".
	Readiness string
	// Generation changes whenever the backends are replaced.
	Generation int64
}

// Routes is the in-memory route table, keyed by slug. The reconciler writes
// it after every start, stop and delete; the router reads it per request.
type Routes struct {
	mu     sync.RWMutex
	bySlug map[string]Route
	subs   []func(Route, bool)
}

// NewRoutes returns an empty route table.
func NewRoutes() *Routes {
	return &Routes{bySlug: make(map[string]Route)}
}

// Get returns the route of a slug.
func (t *Routes) Get(slug string) (Route, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.bySlug[slug]
	return r, ok
}

// Set adds or replaces a tenant's route.
func (t *Routes) Set(r Route) {
	t.mu.Lock()
	t.bySlug[r.Slug] = r
	subs := t.subs
	t.mu.Unlock()
	for _, f := range subs {
		f(r, true)
	}
}

// Update replaces a slug's route with fn's result when fn says so, all
// under the table's lock: a change made only if the route is still the one
// fn saw. It reports whether the route was replaced.
func (t *Routes) Update(slug string, fn func(r Route) (Route, bool)) bool {
	t.mu.Lock()
	r, ok := t.bySlug[slug]
	if !ok {
		t.mu.Unlock()
		return false
	}
	next, change := fn(r)
	if !change {
		t.mu.Unlock()
		return false
	}
	t.bySlug[slug] = next
	subs := t.subs
	t.mu.Unlock()
	for _, f := range subs {
		f(next, true)
	}
	return true
}

// Delete removes a tenant's route: its host answers 404 from then on.
func (t *Routes) Delete(slug string) {
	t.mu.Lock()
	r, ok := t.bySlug[slug]
	delete(t.bySlug, slug)
	subs := t.subs
	t.mu.Unlock()
	if ok {
		for _, f := range subs {
			f(r, false)
		}
	}
}

// ByTenant returns a tenant's route, found by the tenant's id.
func (t *Routes) ByTenant(tenantID string) (Route, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, r := range t.bySlug {
		if r.TenantID == tenantID {
			return r, true
		}
	}
	return Route{}, false
}

// Len is the number of routes.
func (t *Routes) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.bySlug)
}

// All returns a copy of every route.
func (t *Routes) All() []Route {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Route, 0, len(t.bySlug))
	for _, r := range t.bySlug {
		out = append(out, r)
	}
	return out
}

// Subscribe calls f after every change (present=false for a deletion), so
// that the router can drop connections to replaced backends.
func (t *Routes) Subscribe(f func(r Route, present bool)) {
	t.mu.Lock()
	t.subs = append(t.subs, f)
	t.mu.Unlock()
}
