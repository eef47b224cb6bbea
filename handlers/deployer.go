package handlers

import (
	"context"

	"appfactory/store"
)

// Deployer turns a finished app into a running deployment: the factory,
// whose Preview is the one source of the review's Dockerfile and stack.
type Deployer interface {
	// Preview returns the Dockerfile and Compose stack a deployment of the
	// app would use, for the review to show.
	Preview(ctx context.Context, app *store.App) (dockerfile, compose string, err error)
	// Deploy starts a deployment of the app for by, returning its tenant id.
	Deploy(ctx context.Context, app *store.App, by *store.User) (tenantID string, err error)
}
