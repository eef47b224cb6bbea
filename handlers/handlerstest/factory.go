package handlerstest

import (
	"sync"
	"testing"

	"appfactory/catalog"
	"appfactory/handlers"
	"appfactory/orchestrator"
	"appfactory/orchestrator/route"
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
