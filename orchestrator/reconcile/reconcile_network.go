package reconcile

import (
	"context"
	"errors"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// ensureNetwork creates the tenant network on its subnet; a subnet the
// engine refuses (a network appfactory did not make overlaps it) is set
// aside and another one claimed. Networks of the tenant under another name
// are removed.
func (p *pass) ensureNetwork(ctx context.Context, st *stack.TenantStack) error {
	var have bool
	for _, n := range p.obs.networks {
		if n.Name == st.Network.Name {
			have = true
			continue
		}
		if err := p.r.rt.RemoveNetwork(ctx, n.ID); err != nil {
			return stepFailed(err, "Removing the old network %s failed", n.Name)
		}
		p.event(ctx, domain.EventObject, "Removed network %s (no longer the tenant's network)", n.Name)
	}
	if have {
		return nil
	}
	if err := p.begin(ctx, true); err != nil {
		return err
	}
	for range 8 {
		subnet, err := p.r.db.ClaimSubnet(ctx, p.t.ID, p.r.opts.Pool.Pick)
		if err != nil {
			return stepFailed(err, "No network address range is free")
		}
		p.t.Subnet = subnet
		spec := st.Network
		spec.Subnet = subnet
		_, err = p.r.rt.EnsureNetwork(ctx, spec)
		if errors.Is(err, runtime.ErrSubnetOverlap) {
			p.r.opts.Pool.Block(subnet)
			if err := p.r.db.ReleaseSubnet(ctx, p.t.ID); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return stepFailed(err, "Creating network %s failed", spec.Name)
		}
		p.event(ctx, domain.EventObject, "Created network %s (%s)", spec.Name, subnet)
		p.r.failpoint("after-network")
		return nil
	}
	return stepFailed(errors.New("every subnet tried overlaps another network"), "Creating network %s failed", st.Network.Name)
}

// ensureVolumes creates the named volumes that are missing. Volumes no
// longer in the stack are kept: they hold data.
func (p *pass) ensureVolumes(ctx context.Context, st *stack.TenantStack) error {
	for _, v := range st.Volumes {
		if _, ok := p.obs.volumes[v.Name]; ok {
			continue
		}
		if err := p.begin(ctx, true); err != nil {
			return err
		}
		if err := p.r.rt.EnsureVolume(ctx, v); err != nil {
			return stepFailed(err, "Creating volume %s failed", v.Name)
		}
		p.obs.volumes[v.Name] = runtime.Volume{Name: v.Name, Labels: v.Labels}
		p.event(ctx, domain.EventObject, "Created volume %s", v.Name)
		p.r.failpoint("after-volume:" + v.Labels[stack.LabelComposeVolume])
	}
	return nil
}
