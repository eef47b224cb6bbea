package enginetest

import (
	"context"
	"sync"
	"testing"

	"appfactory/orchestrator/docker"
)

// Runtime is the tenant-level runtime over the test's engine for instance,
// with subnets from Subnets.
func (e *Env) Runtime(t testing.TB, instance string) *docker.Runtime {
	t.Helper()
	rt, err := docker.NewRuntime(e.D, docker.Options{Instance: instance, Subnets: &Subnets{}})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// Subnets hands out random /28s of 10.213.0.0/16, one per tenant, and a
// fresh one when the engine refuses a subnet (another test took it): tests
// share the engine and need no database for claims.
type Subnets struct {
	mu     sync.Mutex
	claims map[string]string
}

// Claim implements docker.Subnets.
func (s *Subnets) Claim(_ context.Context, tenant string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims == nil {
		s.claims = map[string]string{}
	}
	if sn, ok := s.claims[tenant]; ok {
		return sn, nil
	}
	sn := RandomSubnet().String()
	s.claims[tenant] = sn
	return sn, nil
}

// Reject implements docker.Subnets.
func (s *Subnets) Reject(_ context.Context, tenant, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.claims, tenant)
	return nil
}
