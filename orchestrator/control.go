package orchestrator

import (
	"context"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// Control carries out an admin's bulk changes. Each writes the desired
// state and wakes the reconciler without waiting for the pass, so that a
// request can change many tenants at once.
type Control struct {
	DB      *store.DB
	Service *Service
	Waker   waker
}

// Passivate asks for a tenant's containers to stop, keeping its data.
func (c *Control) Passivate(ctx context.Context, tenantID, reason string) error {
	t, err := c.DB.TenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	switch {
	case t.DesiredState == domain.DesiredDeleted:
		return apperr.New(apperr.Conflict, "Deployment %s is deleted.", t.Slug)
	case t.DesiredState == domain.DesiredPassivated:
		return nil
	}
	if err := c.DB.SetDesiredState(ctx, tenantID, domain.DesiredPassivated); err != nil {
		return err
	}
	if err := c.DB.AddEvent(ctx, tenantID, domain.EventDesired, "Passivating: "+reason); err != nil {
		return err
	}
	c.Waker.Wake(tenantID)
	return nil
}

// Delete asks for a tenant's removal on behalf of a user.
func (c *Control) Delete(ctx context.Context, tenantID, byUserID string) error {
	t, err := c.DB.TenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	by, err := c.DB.UserByID(ctx, byUserID)
	if err != nil {
		return err
	}
	return c.Service.Delete(ctx, t, by)
}
