package handlerstest

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"appfactory/apperr"

	"appfactory/catalog"
	"appfactory/handlers"
	"appfactory/orchestrator"
	"appfactory/orchestrator/monitor"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
)

// Wakes records the tenants the orchestrator woke the reconciler for; no
// reconciler runs under a test portal, so deployments stay as written.
type Wakes struct {
	mu  sync.Mutex
	ids []string
}

// Wake implements the orchestrator's waker.
func (w *Wakes) Wake(tenantID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ids = append(w.ids, tenantID)
}

// IDs are the tenants woken so far, in order.
func (w *Wakes) IDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ids...)
}

// TenantURL is a tenant's address under a test portal.
func TenantURL(slug string) string { return "http://" + slug + ".localhost:8080/" }

// withFactory gives h what configure left unset: the embedded catalog, the
// database's directory for uploads, and the real orchestrator.Service as
// Deployer and Orchestrator, over no engine (its previews carry the
// placeholder tag, and the work of deployments is only asked for).
func withFactory(t testing.TB, h *handlers.Handlers, env *Env) {
	t.Helper()
	if h.Catalog == nil {
		cat, err := catalog.Load("")
		if err != nil {
			t.Fatalf("embedded catalog: %v", err)
		}
		h.Catalog = cat
	}
	if h.DataDir == "" {
		h.DataDir = env.Dir
	}
	bp := &orchestrator.CatalogBlueprints{Catalog: h.Catalog, DataDir: h.DataDir, PublicURL: TenantURL, SecretKey: []byte("test key")}
	svc := &orchestrator.Service{DB: h.DB, Catalog: h.Catalog, Blueprints: bp, Reconciler: &env.Wakes,
		Routes: route.NewRoutes(), PublicURL: TenantURL, Logger: h.Logger}
	env.Service = svc
	if h.Deployer == nil {
		h.Deployer = svc
	}
	if h.Orchestrator == nil {
		h.Orchestrator = svc
	}
}

// withMonitoring gives h the monitoring configure left unset: an empty
// metrics registry, an engine without containers, no capacity measure, no
// request in flight, the real bulk Control over Service, and no passivator
// to extend trials.
func withMonitoring(h *handlers.Handlers, env *Env) {
	m := &h.Monitoring
	if m.Metrics == nil {
		m.Metrics = prometheus.NewRegistry()
	}
	if m.Runtime == nil {
		m.Runtime = NoContainers{}
	}
	if m.Capacity == nil {
		m.Capacity = NoContainers{}
	}
	if m.InUse == nil {
		m.InUse = func() []string { return nil }
	}
	if m.Control == nil {
		m.Control = &orchestrator.Control{DB: h.DB, Service: env.Service, Waker: &env.Wakes}
	}
	if m.Extender == nil {
		m.Extender = NoContainers{}
	}
}

// NoContainers is an engine that runs nothing, for the portal's monitoring
// in tests that do not look at containers.
type NoContainers struct{}

// Observe finds nothing.
func (NoContainers) Observe(_ context.Context, tenant string) (runtime.Observation, error) {
	return runtime.Observation{Tenant: tenant}, nil
}

// Logs has no replica to read.
func (NoContainers) Logs(context.Context, string, runtime.LogOptions) (io.ReadCloser, error) {
	return nil, runtime.ErrNotFound
}

// Capacity is not measured without an engine.
func (NoContainers) Capacity(context.Context) (monitor.Capacity, error) {
	return monitor.Capacity{}, apperr.New(apperr.Unavailable, "No engine to measure.")
}

// Extend has no passivator to ask.
func (NoContainers) Extend(context.Context, string, int) (time.Time, error) {
	return time.Time{}, apperr.New(apperr.Unavailable, "Trials cannot be extended on this server.")
}
