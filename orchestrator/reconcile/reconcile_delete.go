package reconcile

import (
	"context"
	"sort"

	"appfactory/domain"
	"appfactory/orchestrator/stack"
)

// teardown removes every object of a deleted tenant: containers, then
// volumes (its data), then the network, and takes its host off the route
// table. Each step is idempotent, so a pass cut short is finished by the
// next one.
func (p *pass) teardown(ctx context.Context) error {
	t := p.t
	p.r.routes.Delete(t.Slug)
	if !p.obs.empty() || t.State != domain.StateDeleted {
		if err := p.begin(ctx, false); err != nil {
			return err
		}
	}
	names := stack.SortedNames(p.obs.containers)
	// Later replicas and services last created go first; the order only
	// matters for what a dying stack logs.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, name := range names {
		c := p.obs.containers[name]
		p.r.failpoint("before-remove-container:" + replicaName(c.Labels))
		if err := p.r.rt.RemoveContainer(ctx, c.ID); err != nil {
			return stepFailed(err, "Removing container %s failed", c.Name)
		}
		p.dropImage(c.Image)
		p.event(ctx, domain.EventObject, "Removed container %s", c.Name)
	}
	p.dropImage(t.Image)
	if len(p.obs.volumes) > 0 {
		p.r.failpoint("before-remove-volume")
	}
	for _, name := range stack.SortedNames(p.obs.volumes) {
		if err := p.r.rt.RemoveVolume(ctx, name); err != nil {
			return stepFailed(err, "Removing volume %s failed", name)
		}
		p.event(ctx, domain.EventObject, "Removed volume %s", name)
	}
	if len(p.obs.networks) > 0 {
		p.r.failpoint("before-remove-network")
	}
	for _, n := range p.obs.networks {
		if err := p.r.rt.RemoveNetwork(ctx, n.ID); err != nil {
			return stepFailed(err, "Removing network %s failed", n.Name)
		}
		p.event(ctx, domain.EventObject, "Removed network %s", n.Name)
	}
	if err := p.r.db.SetTenantState(ctx, t.ID, domain.StateDeleted, ""); err != nil {
		return err
	}
	t.State = domain.StateDeleted
	p.r.forget(t.ID)
	return nil
}
