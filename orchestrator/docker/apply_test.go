package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

// queueSubnets hands out the subnets of next in turn, one per claim, and
// remembers what was rejected.
type queueSubnets struct {
	mu       sync.Mutex
	next     []string
	claims   map[string]string
	rejected []string
}

func (q *queueSubnets) Claim(_ context.Context, tenant string) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s, ok := q.claims[tenant]; ok {
		return s, nil
	}
	if len(q.next) == 0 {
		return "", errors.New("no subnet left")
	}
	s := q.next[0]
	q.next = q.next[1:]
	if q.claims == nil {
		q.claims = map[string]string{}
	}
	q.claims[tenant] = s
	return s, nil
}

func (q *queueSubnets) Reject(_ context.Context, tenant, subnet string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rejected = append(q.rejected, subnet)
	delete(q.claims, tenant)
	return nil
}

// changeLog is a Reporter that keeps the messages of the changes.
type changeLog struct {
	mu      sync.Mutex
	changes []string
}

func (l *changeLog) Begin(context.Context, bool) error { return nil }
func (l *changeLog) Point(string)                      {}
func (l *changeLog) Changed(_ context.Context, c runtime.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, c.Message(false))
}

func (l *changeLog) has(prefix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.changes, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// webStack is a stack of one service of the test server.
func (e *testEnv) webStack(tenant, image string, replicas int) *runtime.Stack {
	return &runtime.Stack{
		Tenant: tenant, Slug: "s" + e.id, Generation: 1, Mode: runtime.ModeRunning, Labels: e.labels,
		Services: []runtime.Service{{Name: "web", Replicas: replicas, Image: image, User: "65534:65534",
			MemoryBytes: 64 << 20, CPUs: 0.5, PidsLimit: 64, StopTimeout: 2 * time.Second}},
	}
}

func (e *testEnv) newRuntime(t *testing.T, subnets Subnets) *Runtime {
	t.Helper()
	r, err := NewRuntime(e.d, Options{Instance: "i" + e.id, Subnets: subnets, HealthTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Before the image's own clean-up runs: the containers use it.
	t.Cleanup(func() {
		obs, err := r.Tenants(context.Background())
		if err != nil {
			t.Errorf("tenants: %v", err)
		}
		for _, o := range obs {
			if err := r.Remove(context.Background(), o.Tenant, nil); err != nil {
				t.Errorf("remove tenant %s: %v", o.Tenant, err)
			}
		}
	})
	return r
}

// TestApplyClaimsAnotherSubnetWhenTheEngineRefusesOne offers first a
// subnet another network already uses: it is rejected and the next one
// taken.
func TestApplyClaimsAnotherSubnetWhenTheEngineRefusesOne(t *testing.T) {
	e := newTestEnv(t)
	image := e.image(t)
	_, _, taken := e.network(t, "taken", true)
	free := randomSubnet()
	for free.Overlaps(taken) {
		free = randomSubnet()
	}
	subnets := &queueSubnets{next: []string{taken.String(), free.String()}}
	r := e.newRuntime(t, subnets)
	ctx := context.Background()
	log := &changeLog{}
	obs, err := r.Apply(ctx, e.webStack("t-"+e.id, image, 1), log)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(subnets.rejected, []string{taken.String()}) {
		t.Errorf("rejected %v, want the taken %s", subnets.rejected, taken)
	}
	if !log.has("Created network " + NetworkName("i"+e.id, "s"+e.id) + " (" + free.String() + ")") {
		t.Errorf("changes %q", log.changes)
	}
	if len(obs.Replicas) != 1 || !obs.Replicas[0].Running || obs.Replicas[0].Address == "" {
		t.Errorf("observed %+v", obs)
	}
}

// TestApplyAdoptsByNameAndRefusesAnothersName: a container made under the
// name Apply would give it, with the same configuration, is adopted
// without a "created" change; the same names claimed for another tenant
// are refused.
func TestApplyAdoptsByNameAndRefusesAnothersName(t *testing.T) {
	e := newTestEnv(t)
	image := e.image(t)
	r := e.newRuntime(t, &queueSubnets{next: []string{randomSubnet().String(), randomSubnet().String()}})
	ctx := context.Background()
	st := e.webStack("t-"+e.id, image, 1)
	if _, err := r.Apply(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	want, err := r.expand(st)
	if err != nil {
		t.Fatal(err)
	}
	spec := want.all()[0]
	if err := r.RemoveContainer(ctx, spec.Name); err != nil {
		t.Fatal(err)
	}
	// As an earlier process would have left it: created, never listed by
	// this Apply's caller.
	if _, _, err := r.CreateContainer(ctx, spec); err != nil {
		t.Fatal(err)
	}
	log := &changeLog{}
	obs, err := r.Apply(ctx, st, log)
	if err != nil {
		t.Fatal(err)
	}
	if log.has("Created container") || !log.has("Started container "+spec.Name) {
		t.Errorf("changes %q, want the container started, not created", log.changes)
	}
	if len(obs.Replicas) != 1 || !obs.Replicas[0].Running {
		t.Errorf("observed %+v", obs)
	}

	other := e.webStack("other-"+e.id, image, 1)
	_, err = r.Apply(ctx, other, nil)
	var se *runtime.StepError
	if !errors.As(err, &se) || !strings.Contains(se.Step, "is taken by another deployment") {
		t.Fatalf("Apply of another tenant under the same names: %v", err)
	}
}

// TestApplyRemovesReplicasNoLongerInTheStack: fewer replicas remove the
// last ones, saying why.
func TestApplyRemovesReplicasNoLongerInTheStack(t *testing.T) {
	e := newTestEnv(t)
	image := e.image(t)
	r := e.newRuntime(t, &queueSubnets{next: []string{randomSubnet().String()}})
	ctx := context.Background()
	if _, err := r.Apply(ctx, e.webStack("t-"+e.id, image, 2), nil); err != nil {
		t.Fatal(err)
	}
	log := &changeLog{}
	obs, err := r.Apply(ctx, e.webStack("t-"+e.id, image, 1), log)
	if err != nil {
		t.Fatal(err)
	}
	gone := ContainerName("i"+e.id, "s"+e.id, "web", 2)
	if !slices.Equal(log.changes, []string{"Removed container " + gone + " (no longer part of the stack)"}) {
		t.Errorf("changes %q", log.changes)
	}
	if len(obs.Replicas) != 1 || obs.Replicas[0].Name != "web-1" {
		t.Errorf("observed %+v", obs.Replicas)
	}
	if err := r.Remove(ctx, "t-"+e.id, nil); err != nil {
		t.Fatal(err)
	}
	if obs, err := r.Observe(ctx, "t-"+e.id); err != nil || !obs.Empty() {
		t.Errorf("after Remove: %+v, %v", obs, err)
	}
}
