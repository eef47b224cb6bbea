package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// Modes a tenant's containers can be in, from its desired state and pause flag.
const (
	modeRunning    = "running"
	modePaused     = "paused"
	modePassivated = "passivated"
)

func tenantMode(t *store.Tenant) string {
	switch {
	case t.DesiredState == domain.DesiredPassivated:
		return modePassivated
	case t.Paused:
		return modePaused
	}
	return modeRunning
}

// observed is a tenant's actual Docker objects.
type observed struct {
	containers map[string]runtime.Container // by name
	networks   []runtime.Network
	volumes    map[string]runtime.Volume // by name
}

func (o *observed) empty() bool {
	return len(o.containers) == 0 && len(o.networks) == 0 && len(o.volumes) == 0
}

// observe lists a tenant's objects by their labels: only those of this
// instance count.
func (r *Reconciler) observe(ctx context.Context, tenantID string) (*observed, error) {
	labels := map[string]string{stack.LabelTenant: tenantID, stack.LabelInstance: r.opts.InstanceID}
	cs, err := r.rt.ListContainers(ctx, labels, true)
	if err != nil {
		return nil, err
	}
	ns, err := r.rt.ListNetworks(ctx, labels)
	if err != nil {
		return nil, err
	}
	vs, err := r.rt.ListVolumes(ctx, labels)
	if err != nil {
		return nil, err
	}
	o := &observed{containers: map[string]runtime.Container{}, networks: ns, volumes: map[string]runtime.Volume{}}
	for _, c := range cs {
		o.containers[c.Name] = c
	}
	for _, v := range vs {
		o.volumes[v.Name] = v
	}
	return o, nil
}

// pass is one reconcile pass over one tenant.
type pass struct {
	r     *Reconciler
	t     *store.Tenant
	obs   *observed
	began bool

	mu sync.Mutex
	// adopted names containers found by name rather than created.
	adopted map[string]bool
	// held are the image tags this pass keeps from removal; dropped those
	// it stopped using, removed after the pass if nobody uses them.
	held, dropped []string
}

func (p *pass) markAdopted(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.adopted == nil {
		p.adopted = map[string]bool{}
	}
	p.adopted[name] = true
}

// reconcileTenant compares one tenant's desired and actual state and acts.
func (r *Reconciler) reconcileTenant(ctx context.Context, t *store.Tenant) error {
	if t.Cleaned() {
		r.routes.Delete(t.Slug)
		r.forget(t.ID)
		return nil
	}
	obs, err := r.observe(ctx, t.ID)
	if err != nil {
		return stepFailed(err, "Reading the deployment's containers failed")
	}
	p := &pass{r: r, t: t, obs: obs}
	defer func() {
		r.images.release(p.held)
		r.removeUnusedImages(ctx, p.dropped)
	}()
	if t.DesiredState == domain.DesiredDeleted {
		return p.teardown(ctx)
	}
	if _, ok := r.routes.Get(t.Slug); !ok {
		// The host is known from the start: the router shows progress, not 404.
		r.setRoute(t, t.State, nil, "")
	}
	if err := p.ensureImage(ctx); err != nil {
		return err
	}
	st, err := r.opts.Blueprints.Stack(ctx, t, r.stackParams(t))
	if err != nil {
		return stepFailed(err, "Preparing the deployment's stack failed")
	}
	return p.converge(ctx, st)
}

func (r *Reconciler) stackParams(t *store.Tenant) stack.StackParams {
	return stack.StackParams{
		TenantID:   t.ID,
		Slug:       t.Slug,
		InstanceID: r.opts.InstanceID,
		Generation: t.Generation,
		Replicas:   t.Replicas,
		Subnet:     t.Subnet,
		Labels:     r.opts.Labels,
	}
}

// begin moves the tenant into the transitional state of the work about to
// be done, once per pass and only when there is work. Repairing a running
// tenant (starting a container that died) leaves its state alone: events
// tell about it.
func (p *pass) begin(ctx context.Context, creating bool) error {
	if p.began {
		return nil
	}
	p.began = true
	t := p.t
	if t.State == domain.StateFailed && t.Failures > 0 {
		return nil // retrying after failures: stay failed until it works
	}
	var st string
	switch {
	case t.DesiredState == domain.DesiredDeleted:
		st = domain.StateDeleting
	case t.DesiredState == domain.DesiredPassivated && t.State == domain.StateExpired:
		// An expired trial stays expired while it is stopped (passivator.go).
	case t.DesiredState == domain.DesiredPassivated:
		st = domain.StatePassivating
	case t.Paused:
	case slices.Contains([]string{domain.StatePassivated, domain.StatePaused, domain.StatePassivating, domain.StateActivating}, t.State):
		st = domain.StateActivating
	case creating || t.State != domain.StateRunning:
		st = domain.StateDeploying
	}
	if st == "" || st == t.State {
		return nil
	}
	if err := p.r.db.SetTenantState(ctx, t.ID, st, ""); err != nil {
		return err
	}
	t.State = st
	return nil
}

// finish records the state a successful pass reached.
func (p *pass) finish(ctx context.Context, state, message string, containers int) error {
	if err := p.r.db.SetTenantState(ctx, p.t.ID, state, message); err != nil {
		return err
	}
	p.t.State = state
	p.r.mu.Lock()
	p.r.converged[p.t.ID] = convergedState{generation: p.t.Generation, containers: containers, mode: tenantMode(p.t)}
	p.r.mu.Unlock()
	return nil
}

func (p *pass) event(ctx context.Context, kind, format string, args ...any) {
	p.r.event(ctx, p.t.ID, kind, format, args...)
}

// converge brings the tenant's objects to its stack and mode.
func (p *pass) converge(ctx context.Context, st *stack.TenantStack) error {
	if err := p.ensureNetwork(ctx, st); err != nil {
		return err
	}
	if err := p.ensureVolumes(ctx, st); err != nil {
		return err
	}
	if err := p.removeStale(ctx, st); err != nil {
		return err
	}
	mode := tenantMode(p.t)
	if err := p.ensureContainers(ctx, st, mode); err != nil {
		return err
	}
	n := len(st.AllContainers())
	switch mode {
	case modePassivated:
		// However the stop was asked for (the passivator, a button), new
		// requests wait for the next activation rather than reach
		// replicas that are stopping.
		if r, ok := p.r.routes.Get(p.t.Slug); ok && (r.State == domain.StateRunning || r.State == domain.StatePaused) {
			p.r.setRoute(p.t, domain.StatePassivating, nil, st.Readiness)
		}
		if err := p.stopAll(ctx, st); err != nil {
			return err
		}
		state, msg := domain.StatePassivated, ""
		if p.t.State == domain.StateExpired {
			state, msg = domain.StateExpired, p.t.StateMessage
		}
		p.r.setRoute(p.t, state, nil, st.Readiness)
		return p.finish(ctx, state, msg, n)
	case modePaused:
		if err := p.pauseAll(ctx, st); err != nil {
			return err
		}
		backends, err := p.backends(ctx, st, false)
		if err != nil {
			return err
		}
		p.r.setRoute(p.t, domain.StatePaused, backends, st.Readiness)
		return p.finish(ctx, domain.StatePaused, "", n)
	}
	// A pass that changed nothing of a running tenant whose route already
	// holds these addresses has nothing to probe.
	backends, err := p.backends(ctx, st, false)
	if err != nil {
		return err
	}
	rte, ok := p.r.routes.Get(p.t.Slug)
	if p.began || p.t.State != domain.StateRunning || !ok || rte.State != domain.StateRunning || !slices.Equal(rte.Backends, backends) {
		if backends, err = p.backends(ctx, st, true); err != nil {
			return err
		}
	}
	p.r.setRoute(p.t, domain.StateRunning, backends, st.Readiness)
	return p.finish(ctx, domain.StateRunning, "", n)
}

// replicaName is "web-1" for a container's labels.
func replicaName(labels map[string]string) string {
	return labels[stack.LabelService] + "-" + labels[stack.LabelComposeNumber]
}

// removeStale removes containers that are not in the stack, whose
// configuration or generation changed, or that are dead: removed ones are
// created again afresh. Later services go first, so a service never loses
// what it depends on while it still runs.
func (p *pass) removeStale(ctx context.Context, st *stack.TenantStack) error {
	desired := map[string]runtime.ContainerSpec{}
	rank := map[string]int{}
	for i, c := range st.AllContainers() {
		desired[c.Name] = c
		rank[c.Name] = i
	}
	type staleOne struct {
		c      runtime.Container
		reason string
	}
	var stale []staleOne
	for name, c := range p.obs.containers {
		d, ok := desired[name]
		switch {
		case !ok:
			stale = append(stale, staleOne{c, "no longer part of the stack"})
		case c.Labels[stack.LabelGeneration] != d.Labels[stack.LabelGeneration]:
			stale = append(stale, staleOne{c, fmt.Sprintf("replaced by generation %s", d.Labels[stack.LabelGeneration])})
		case c.Labels[stack.LabelConfigHash] != d.Labels[stack.LabelConfigHash]:
			stale = append(stale, staleOne{c, "its configuration changed"})
		case c.State == "dead":
			stale = append(stale, staleOne{c, "it is dead"})
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		ri, iok := rank[stale[i].c.Name]
		rj, jok := rank[stale[j].c.Name]
		if iok != jok {
			return !iok // containers not in the stack first
		}
		if iok {
			return ri > rj
		}
		return stale[i].c.Name < stale[j].c.Name
	})
	for _, s := range stale {
		if err := p.begin(ctx, true); err != nil {
			return err
		}
		p.r.failpoint("before-remove-container:" + replicaName(s.c.Labels))
		if err := p.r.rt.RemoveContainer(ctx, s.c.ID); err != nil {
			return stepFailed(err, "Removing container %s failed", s.c.Name)
		}
		delete(p.obs.containers, s.c.Name)
		p.dropImage(s.c.Image)
		p.event(ctx, domain.EventObject, "Removed container %s (%s)", s.c.Name, s.reason)
	}
	return nil
}

// forget drops what the reconciler remembers of a tenant.
func (r *Reconciler) forget(id string) {
	r.mu.Lock()
	delete(r.converged, id)
	delete(r.notBefore, id)
	r.mu.Unlock()
}
