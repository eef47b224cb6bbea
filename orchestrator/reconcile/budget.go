package reconcile

import (
	"context"
	"fmt"

	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// Admission is the host's memory budget (orchestrator/budget): every start
// of a tenant's containers, a deploy's first among them, waits for it.
type Admission interface {
	// AdmitBytes returns once a tenant of that memory limit may start (at
	// once when it already holds memory); release ends the reservation.
	AdmitBytes(ctx context.Context, tenantID string, bytes int64) (release func(), err error)
}

// StackMemory is a stack's memory limit: every service's limit times its
// replicas.
func StackMemory(st *runtime.Stack) int64 {
	var n int64
	for _, s := range st.Services {
		n += s.MemoryBytes * int64(max(s.Replicas, 1))
	}
	return n
}

// MemoryOf returns a tenant's memory limit from its stack as the next pass
// would build it; the budget sizes tenants with it.
func (r *Reconciler) MemoryOf(ctx context.Context, tenantID string) (int64, error) {
	t, err := r.db.TenantByID(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	st, err := r.opts.Blueprints.Stack(ctx, t, r.stackParams(t))
	if err != nil {
		return 0, fmt.Errorf("stack of tenant %s: %w", t.Slug, err)
	}
	return StackMemory(&st.Stack), nil
}

// admit waits for the memory budget before a pass applies a stack that
// runs containers; a stop or a pause needs no memory. With no budget, or a
// tenant that holds its memory already, it returns at once.
func (p *pass) admit(ctx context.Context, st *stack.TenantStack, mode runtime.Mode) (release func(), err error) {
	if p.r.opts.Budget == nil || mode != runtime.ModeRunning {
		return func() {}, nil
	}
	release, err = p.r.opts.Budget.AdmitBytes(ctx, p.t.ID, StackMemory(&st.Stack))
	if err != nil {
		return nil, runtime.StepFailed(err, "%s", err.Error())
	}
	return release, nil
}

// UseBudget has every start wait for the memory budget; call it before Run.
func (r *Reconciler) UseBudget(a Admission) { r.opts.Budget = a }
