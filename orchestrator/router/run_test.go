package router

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/orchestrator/route"
)

// endingActivator blocks until its context ends and records that it returned.
type endingActivator struct {
	began, ended atomic.Int64
}

func (a *endingActivator) Activate(ctx context.Context, _ string) error {
	a.began.Add(1)
	<-ctx.Done()
	time.Sleep(50 * time.Millisecond) // a start that takes a moment to give up
	a.ended.Add(1)
	return ctx.Err()
}

// TestRunCancelsAndAwaitsActivations: when Run's context ends, an
// activation in flight is cancelled and Run returns only once the
// activator has; a request after that starts nothing.
func TestRunCancelsAndAwaitsActivations(t *testing.T) {
	routes := route.NewRoutes()
	act := &endingActivator{}
	rt := NewRouter(RouterConfig{Slug: func(h string) (string, bool) { return strings.CutSuffix(h, ".example.test") }},
		routes, act, route.NewActivity(nil, nil))
	stop := runRouter(t, rt)
	routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: "passivated"})
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://acme.example.test/", nil)
		rt.ServeHTTP(discard{}, req)
	}()
	waitFor(t, 2*time.Second, "an activation under way", func() bool { return act.began.Load() == 1 })
	stop()
	if n := act.ended.Load(); n != 1 {
		t.Fatalf("Run returned with the activation still running (%d ended)", n)
	}

	routes.Set(route.Route{TenantID: "t2", Slug: "beta", State: "passivated"})
	req, _ := http.NewRequest(http.MethodGet, "http://beta.example.test/", nil)
	rt.ServeHTTP(discard{}, req)
	if n := act.began.Load(); n != 1 {
		t.Errorf("%d activations after Run returned, want none", n-1)
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
