package docker

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/internal/runtimetest"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// TestContract runs the runtime contract against the engine: each subtest
// has an instance of its own, every object carries the test's labels, and
// whatever a subtest leaves is removed when it ends, pass or fail.
func TestContract(t *testing.T) {
	e := newTestEnv(t)
	img := e.image(t)
	subnets := newContractSubnets(t)
	n := 0
	runtimetest.Run(t, func(t *testing.T) runtime.Runtime {
		n++
		instance := fmt.Sprintf("ct%s%d", e.id, n)
		t.Cleanup(func() { e.sweepOnly(t, map[string]string{LabelInstance: instance, testLabel: e.id}) })
		rt, err := NewRuntime(e.d, Options{Instance: instance, Subnets: subnets, HealthTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return rt
	}, runtimetest.Options{Image: img, Labels: e.labels, Timeout: time.Minute,
		ExecOK: []string{"/server", "check"}, ExecFail: []string{"/no-such-command"}})
}

// contractSubnets hands out the /28s of a /24 of 10.250.0.0/16 picked at
// random for the test, one per tenant; a subnet the engine refuses is set
// aside.
type contractSubnets struct {
	pool   *stack.SubnetPool
	mu     sync.Mutex
	claims map[string]string
}

func newContractSubnets(t *testing.T) *contractSubnets {
	t.Helper()
	pool, err := stack.NewSubnetPool(fmt.Sprintf("10.250.%d.0/24", mrand.IntN(256)))
	if err != nil {
		t.Fatal(err)
	}
	return &contractSubnets{pool: pool, claims: map[string]string{}}
}

// Claim implements Subnets.
func (s *contractSubnets) Claim(_ context.Context, tenant string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn, ok := s.claims[tenant]; ok {
		return sn, nil
	}
	used := map[string]bool{}
	for _, sn := range s.claims {
		used[sn] = true
	}
	sn, err := s.pool.Pick(used)
	if err != nil {
		return "", err
	}
	s.claims[tenant] = sn
	return sn, nil
}

// Reject implements Subnets.
func (s *contractSubnets) Reject(_ context.Context, tenant, subnet string) error {
	s.pool.Block(subnet)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.claims, tenant)
	return nil
}
