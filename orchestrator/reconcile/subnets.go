package reconcile

import (
	"context"

	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// Subnets are the address ranges of tenant networks, claimed in the
// database from a pool, for a runtime that chooses its networks' subnets
// (docker.Subnets).
type Subnets struct {
	DB   *store.DB
	Pool *stack.SubnetPool
}

// Claim returns the tenant's subnet, claiming a free one of the pool if it
// has none.
func (s Subnets) Claim(ctx context.Context, tenant string) (string, error) {
	return s.DB.ClaimSubnet(ctx, tenant, s.Pool.Pick)
}

// Reject sets a subnet that the engine refused aside for this process and
// drops the tenant's claim on it, so the next Claim picks another.
func (s Subnets) Reject(ctx context.Context, tenant, subnet string) error {
	s.Pool.Block(subnet)
	return s.DB.ReleaseSubnet(ctx, tenant)
}
