package reconcile

import (
	"context"

	"appfactory/domain"
)

// teardown has the runtime remove every object of a deleted tenant
// (containers, then its data, then its network) and takes its host off
// the route table. The runtime's Remove is idempotent, so a pass cut short
// is finished by the next one.
func (p *pass) teardown(ctx context.Context) error {
	t := p.t
	p.r.routes.Delete(t.Slug)
	if t.State != domain.StateDeleted {
		if err := p.begin(ctx, false); err != nil {
			return err
		}
	}
	if err := p.r.rt.Remove(ctx, t.ID, p); err != nil {
		return err
	}
	p.dropImage(t.Image)
	if err := p.r.db.SetTenantState(ctx, t.ID, domain.StateDeleted, ""); err != nil {
		return err
	}
	t.State = domain.StateDeleted
	p.r.forget(t.ID)
	return nil
}
