package handlers

import (
	"context"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/store"
)

// Orchestrator is what the deployment handlers need of the factory.
type Orchestrator interface {
	// DeployApp creates a deployment of a finished app and starts it.
	DeployApp(ctx context.Context, app *store.App, by *store.User) (*store.Tenant, error)
	// Delete, Restart and Upgrade ask for a change; the work follows.
	Delete(ctx context.Context, t *store.Tenant, by *store.User) error
	Restart(ctx context.Context, t *store.Tenant, by *store.User) error
	Upgrade(ctx context.Context, t *store.Tenant, by *store.User, version string) error
	// UpgradeVersions lists the versions a deployment can move to.
	UpgradeVersions(t *store.Tenant) []catalog.Version
	// TenantURL is where a deployment is served.
	TenantURL(slug string) string
}

// canViewTenant: the owner, whoever created it, sales and admins.
func canViewTenant(u *store.User, t *store.Tenant) bool {
	return u != nil && (t.OwnerID == u.ID || t.CreatedBy == u.ID || u.IsStaff())
}

// canActOnTenant: the owner and admins; sales for the demos they created.
func canActOnTenant(u *store.User, t *store.Tenant) bool {
	if u == nil {
		return false
	}
	switch u.Role {
	case store.RoleAdmin:
		return true
	case store.RoleSales:
		return t.CreatedBy == u.ID || t.OwnerID == u.ID
	}
	return t.OwnerID == u.ID
}

// tenantFor loads a deployment the user may see, and may act on when act is
// set. A deployment the user may not see is not found; one they may see but
// not change is forbidden.
func (h *Handlers) tenantFor(ctx context.Context, u *store.User, id string, act bool) (*store.Tenant, error) {
	t, err := h.DB.TenantByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canViewTenant(u, t) {
		return nil, apperr.New(apperr.NotFound, "Deployment not found.")
	}
	if act && !canActOnTenant(u, t) {
		return nil, apperr.New(apperr.Forbidden, "Only the owner of this deployment or an admin can change it.")
	}
	return t, nil
}

// deployableApp loads an app the user may deploy (its owner, or sales and
// admins for demos) and checks it is complete.
func (h *Handlers) deployableApp(ctx context.Context, u *store.User, id string) (*store.App, error) {
	a, err := h.readableApp(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if a.IsDraft() {
		return nil, apperr.New(apperr.Unprocessable, "Finish the app in the wizard before deploying it.")
	}
	errs, err := h.validateApp(ctx, a, false)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, firstProblem(errs)
	}
	return a, nil
}
