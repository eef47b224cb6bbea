// Package handlers holds the portal's HTTP handlers by feature. Handlers are
// thin: parse, authorise, call one domain operation, render.
package handlers

import (
	"log/slog"

	"appfactory/catalog"
	"appfactory/store"
	"appfactory/web"
)

// Handlers carries what every handler needs; feature files add their own
// dependencies as fields set in main.go.
type Handlers struct {
	DB     *store.DB
	Server *web.Server
	Logger *slog.Logger
	// Auth tunes sessions and throttles; zero fields take the defaults.
	Auth AuthConfig
	// Monitoring serves the dashboards, tenant logs and stats, and /metrics.
	Monitoring Monitoring
	// Catalog is what apps are assembled from (the embedded catalog when nil).
	Catalog *catalog.Catalog
	// DataDir holds uploaded components (the database's directory when empty).
	DataDir string
	// Deployer builds and deploys finished apps; nil until the factory is
	// installed, when Deploy records the request instead.
	Deployer Deployer
	// Orchestrator deletes, restarts and upgrades deployments; nil until
	// the factory is installed, when the deployment routes answer 503.
	Orchestrator Orchestrator

	sessions *SessionStore
	hashing  chan struct{}
}

// Register installs every feature's routes on the server.
func (h *Handlers) Register() {
	e := h.Server.Echo()
	h.registerAccounts(e)
	h.registerMonitoring(e)
	h.registerSales(e)
	e.GET("/", h.home)
	h.registerApps(e)
	h.registerTenants(e)
}
