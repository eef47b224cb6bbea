// Package handlers holds the portal's HTTP handlers by feature. Handlers are
// thin: parse, authorise, call one domain operation, render.
package handlers

import (
	"log/slog"

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

	sessions *SessionStore
	hashing  chan struct{}
}

// Register installs every feature's routes on the server.
func (h *Handlers) Register() {
	e := h.Server.Echo()
	h.registerAccounts(e)
	e.GET("/", h.home)
	// Keep last: fills in pages that no feature has registered yet.
	h.registerFallbacks(e)
}
