package handlers

import (
	"context"

	"appfactory/orchestrator"
	"appfactory/store"
)

// Deployer turns a finished app into a running deployment: the factory,
// whose Preview is the one source of the review's Dockerfile and stack.
type Deployer interface {
	// Preview returns the Dockerfile and Compose stack a deployment of the
	// app would use, for the review to show.
	Preview(ctx context.Context, app *store.App) (dockerfile, compose string, err error)
	// Deploy finishes the app and starts a deployment of it for by, in one
	// write, returning its tenant id.
	Deploy(ctx context.Context, app *store.App, by *store.User) (tenantID string, err error)
	// DemoDeployer plans and starts the deployment a demo writes with its
	// account, app and invitation.
	orchestrator.DemoDeployer
}
