// Package handlers holds the portal's HTTP handlers by feature. Handlers are
// thin: parse, authorise, call one domain operation, render.
package handlers

import (
	"fmt"
	"log/slog"
	"strings"

	"appfactory/catalog"
	"appfactory/eventfeed"
	"appfactory/store"
	"appfactory/web"
)

// Handlers carries what every handler needs; feature files add their own
// dependencies as fields, all set (tests inject fakes) before Register.
type Handlers struct {
	DB     *store.DB
	Server *web.Server
	Logger *slog.Logger
	// Auth tunes sessions and throttles; zero fields take the defaults.
	Auth AuthConfig
	// Monitoring serves the dashboards, tenant logs and stats, and /metrics.
	Monitoring Monitoring
	// Catalog is what apps are assembled from.
	Catalog *catalog.Catalog
	// DataDir holds uploaded components.
	DataDir string
	// Deployer previews, builds and deploys finished apps.
	Deployer Deployer
	// Orchestrator deletes, restarts and upgrades deployments.
	Orchestrator Orchestrator
	// Warmer starts sleeping tenants when intent is clear (optional): the
	// router.
	Warmer Warmer
	// Sleep says how each tenant sleeps (optional): the passivator.
	Sleep SleepPolicies
	// Mail renders and queues the portal's mails.
	Mail Mail
	// Events tunes the event stream.
	Events EventStreamConfig
	// Backups takes, restores and deletes the deployments' backups.
	Backups Backups

	sessions *SessionStore
	hashing  chan struct{}
	events   *eventfeed.Hub
}

// Register installs every feature's routes on the server, once every
// dependency is set: it changes none of them.
func (h *Handlers) Register() error {
	if missing := h.missing(); len(missing) > 0 {
		return fmt.Errorf("handlers: no %s", strings.Join(missing, ", "))
	}
	e := h.Server.Echo()
	h.registerAccounts(e)
	h.registerMail(e)
	h.registerMonitoring(e)
	h.registerSales(e)
	e.GET("/", h.home)
	h.registerApps(e)
	h.registerTenants(e)
	h.registerEvents(e)
	return h.registerOpenAPI(e)
}

// missing names the dependencies left unset.
func (h *Handlers) missing() []string {
	m := h.Monitoring
	var out []string
	for _, d := range []struct {
		name  string
		unset bool
	}{
		{"DB", h.DB == nil}, {"Server", h.Server == nil}, {"Logger", h.Logger == nil},
		{"Catalog", h.Catalog == nil}, {"DataDir", h.DataDir == ""},
		{"Deployer", h.Deployer == nil}, {"Orchestrator", h.Orchestrator == nil}, {"Mail.Composer", h.Mail.Composer == nil},
		{"Backups", h.Backups == nil},
		{"Monitoring.Metrics", m.Metrics == nil}, {"Monitoring.Runtime", m.Runtime == nil},
		{"Monitoring.Capacity", m.Capacity == nil}, {"Monitoring.InUse", m.InUse == nil},
		{"Monitoring.Control", m.Control == nil}, {"Monitoring.Extender", m.Extender == nil},
	} {
		if d.unset {
			out = append(out, d.name)
		}
	}
	return out
}
