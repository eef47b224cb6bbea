package router

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// Readiness failures a test backend can show.
const (
	healthOK    = iota
	health503   // /healthz answers 503
	healthHangs // /healthz accepts the request and never answers
)

// newReadinessBackend starts a real replica whose /healthz fails as sick
// says; every other path echoes its name.
func newReadinessBackend(t *testing.T, name string, sick *atomic.Int32) *httptest.Server {
	t.Helper()
	return newCountedReadinessBackend(t, name, sick, nil)
}

// newCountedReadinessBackend is newReadinessBackend that also counts its
// readiness probes in probes (when not nil), so a test can wait for rounds
// of checks rather than for time.
func newCountedReadinessBackend(t *testing.T, name string, sick *atomic.Int32, probes *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if probes != nil {
				probes.Add(1)
			}
			switch sick.Load() {
			case health503:
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			case healthHangs:
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{Name: name, Path: r.URL.Path})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fastHealth checks readiness every 20 ms, so that tests see a few rounds quickly.
func fastHealth() RouterConfig {
	return RouterConfig{HealthInterval: 20 * time.Millisecond, HealthTimeout: 200 * time.Millisecond,
		HealthFailures: 2, ReprobeInterval: 20 * time.Millisecond}
}

// spread sends n requests and counts the answers per replica.
func (f *routerFixture) spread(t *testing.T, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		code, e := f.getEcho(t, "acme.example.test", nil)
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		seen[e.Name]++
	}
	return seen
}

func TestRouterHealthTakesOutReplicaFailingReadiness(t *testing.T) {
	tests := []struct {
		name    string
		failure int32
	}{
		{"answers 503", health503},
		{"no answer in time", healthHangs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRouterFixture(t, fastHealth())
			var sickA, sickB atomic.Int32
			a, b := newReadinessBackend(t, "a", &sickA), newReadinessBackend(t, "b", &sickB)
			f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(a), addr(b)}, Readiness: "/healthz"})
			if seen := f.spread(t, 10); seen["a"] != 5 || seen["b"] != 5 {
				t.Fatalf("healthy replicas: round robin gave %v", seen)
			}

			// a still accepts connections but its readiness fails: it leaves the rotation.
			sickA.Store(tc.failure)
			waitFor(t, 3*time.Second, "the failing replica out of rotation", func() bool {
				return f.spread(t, 4)["a"] == 0
			})
			if seen := f.spread(t, 20); seen["b"] != 20 {
				t.Fatalf("with a failing readiness on a: %v", seen)
			}

			// It recovers: the re-probe puts it back.
			sickA.Store(healthOK)
			waitFor(t, 5*time.Second, "the recovered replica back in rotation", func() bool {
				return f.spread(t, 4)["a"] > 0
			})
			if seen := f.spread(t, 10); seen["a"] != 5 || seen["b"] != 5 {
				t.Errorf("after recovery: round robin gave %v", seen)
			}
			if n := f.act.calls.Load(); n != 0 {
				t.Errorf("a failing readiness started the tenant %d times", n)
			}
		})
	}
}

func TestRouterHealthKeepsReplicasWhenAllFail(t *testing.T) {
	tests := []struct {
		name     string
		replicas int
	}{
		{"single replica", 1},
		{"every replica", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRouterFixture(t, fastHealth())
			var sick atomic.Int32
			sick.Store(health503)
			var backends []string
			var probes atomic.Int64
			for _, name := range []string{"a", "b"}[:tc.replicas] {
				backends = append(backends, addr(newCountedReadinessBackend(t, name, &sick, &probes)))
			}
			f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: backends, Readiness: "/healthz"})
			// Many rounds, each failing (HealthFailures is 2): nothing is
			// taken out.
			waitFor(t, 10*time.Second, "five failing rounds", func() bool { return probes.Load() >= int64(5*tc.replicas) })
			seen := f.spread(t, 2*tc.replicas)
			for _, name := range []string{"a", "b"}[:tc.replicas] {
				if seen[name] != 2 {
					t.Errorf("replicas all failing readiness: %v", seen)
				}
			}
			if n := f.act.calls.Load(); n != 0 {
				t.Errorf("a failing readiness started the tenant %d times", n)
			}
		})
	}
}

func TestRouterHealthSkipsRoutesNotRunning(t *testing.T) {
	f := newRouterFixture(t, fastHealth())
	var probes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probes.Add(1)
	}))
	t.Cleanup(srv.Close)
	for _, state := range []string{domain.StatePaused, "passivated", domain.StatePassivating} {
		f.routes.Set(route.Route{TenantID: "t-" + state, Slug: state, State: state, Backends: []string{addr(srv)}, Readiness: "/healthz"})
	}
	// A running route on a backend of its own shows that rounds of checks
	// went by: then the others have had every chance to be probed.
	var witness atomic.Int64
	var healthy atomic.Int32
	f.routes.Set(route.Route{TenantID: "t-witness", Slug: "witness", State: domain.StateRunning,
		Backends: []string{addr(newCountedReadinessBackend(t, "witness", &healthy, &witness))}, Readiness: "/healthz"})
	waitFor(t, 10*time.Second, "three rounds of checks", func() bool { return witness.Load() >= 3 })
	if n := probes.Load(); n != 0 {
		t.Errorf("routes not running were probed %d times", n)
	}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(srv)}, Readiness: "/healthz"})
	waitFor(t, 2*time.Second, "a running route probed", func() bool { return probes.Load() > 0 })
}

func TestRouterHealthStopsWhenRunEnds(t *testing.T) {
	f := newRouterFixture(t, fastHealth())
	var probes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probes.Add(1)
	}))
	t.Cleanup(srv.Close)
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(srv)}, Readiness: "/healthz"})
	waitFor(t, 2*time.Second, "a running route probed", func() bool { return probes.Load() > 0 })
	f.stop()
	before := probes.Load()
	// Not synchronisation: the scenario is time passing (several 20 ms
	// intervals) with no probe; no event can stand for "nothing happened".
	time.Sleep(150 * time.Millisecond)
	if n := probes.Load(); n != before {
		t.Errorf("%d probes after Run returned", n-before)
	}
}
