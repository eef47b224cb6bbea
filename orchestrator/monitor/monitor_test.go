package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/internal/enginetest"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
)

func TestEventMessage(t *testing.T) {
	// The engine's name carries the instance and the slug, the message
	// only the replica.
	const prefix = "af-k3x9a2bq-acme-"
	cases := []struct {
		e    runtime.Event
		want string
	}{
		{runtime.Event{Action: "die", Name: prefix + "web-1", ExitCode: "137", Replica: "web-1"}, "container web-1 died (exit 137)"},
		{runtime.Event{Action: "die", Name: prefix + "web-1", ExitCode: "0", Replica: "web-1"}, "container web-1 exited (exit 0)"},
		{runtime.Event{Action: "start", Name: "/" + prefix + "store-1", Replica: "store-1"}, "container store-1 started"},
		{runtime.Event{Action: "kill", Name: prefix + "web-2", Replica: "web-2", Signal: "9"}, "container web-2 was sent SIGKILL"},
		{runtime.Event{Action: "kill", Name: prefix + "web-2", Replica: "web-2", Signal: "28"}, "container web-2 was sent signal 28"},
		{runtime.Event{Action: "oom", Name: prefix + "web-1", Replica: "web-1"}, "container web-1 ran out of memory"},
		{runtime.Event{Action: "health_status: unhealthy", Name: prefix + "web-1", Replica: "web-1"}, "container web-1 is unhealthy"},
		{runtime.Event{Action: "pause", Name: prefix + "web-1", Replica: "web-1"}, "container web-1 paused"},
		{runtime.Event{Action: "unpause", Name: prefix + "web-1", Replica: "web-1"}, "container web-1 resumed"},
		{runtime.Event{Action: "stop", Name: "/other-name"}, "container other-name stopped"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if got := EventMessage(c.e); got != c.want {
				t.Errorf("EventMessage = %q, want %q", got, c.want)
			}
		})
	}
}

// fakeEvents hands out one scripted stream per subscription.
type fakeEvents struct {
	mu      sync.Mutex
	streams []func(ctx context.Context, out chan<- runtime.Event, errs chan<- error)
	subs    int
}

func (f *fakeEvents) Events(ctx context.Context) (<-chan runtime.Event, <-chan error) {
	f.mu.Lock()
	i := f.subs
	f.subs++
	f.mu.Unlock()
	out, errs := make(chan runtime.Event), make(chan error, 1)
	go func() {
		if i < len(f.streams) {
			f.streams[i](ctx, out, errs)
			return
		}
		<-ctx.Done()
		errs <- ctx.Err()
	}()
	return out, errs
}

// recorder keeps events and wakes in memory.
type recorder struct {
	mu     sync.Mutex
	events []string
	wakes  []string
	woke   chan string
}

func newRecorder() *recorder { return &recorder{woke: make(chan string, 100)} }

func (r *recorder) AddEvent(_ context.Context, tenantID, kind, message string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, tenantID+" "+kind+" "+message)
	return nil
}

func (r *recorder) Wake(id string) {
	r.mu.Lock()
	r.wakes = append(r.wakes, id)
	r.mu.Unlock()
	r.woke <- id
}

func (r *recorder) snapshot() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events), slices.Clone(r.wakes)
}

func (r *recorder) waitWake(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case id := <-r.woke:
			if id == want {
				return
			}
		case <-timeout:
			_, wakes := r.snapshot()
			t.Fatalf("no Wake(%q); wakes %q", want, wakes)
		}
	}
}

func TestMonitorRecordsWakesAndResyncsAfterReconnect(t *testing.T) {
	ev := func(action, tenant string) runtime.Event {
		return runtime.Event{Type: "container", Action: action, Name: "af-acme-web-1", ExitCode: "1", Tenant: tenant, Replica: "web-1"}
	}
	src := &fakeEvents{streams: []func(context.Context, chan<- runtime.Event, chan<- error){
		func(ctx context.Context, out chan<- runtime.Event, errs chan<- error) {
			out <- ev("start", "t1")
			out <- ev("die", "t1")
			out <- ev("die", "") // not a tenant's: ignored
			out <- ev("exec_create: sh", "t1")
			errs <- errors.New("unexpected EOF") // the engine went away
		},
	}}
	rec := newRecorder()
	m := &Monitor{Events: src, Recorder: rec, Waker: rec, MinBackoff: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	rec.waitWake(t, "t1")
	rec.waitWake(t, "") // the full pass after reconnecting
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	events, wakes := rec.snapshot()
	want := []string{"t1 container container web-1 started", "t1 container container web-1 died (exit 1)"}
	if !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
	if !slices.Equal(wakes, []string{"t1", ""}) {
		t.Errorf("wakes %q", wakes)
	}
}

// TestMonitorSeesAKilledContainer runs a labelled container on the real
// engine, kills it behind the monitor's back, and expects the kill and the
// death in the tenant's log and a wake for that tenant.
func TestMonitorSeesAKilledContainer(t *testing.T) {
	env := enginetest.New(t)
	image := env.Image(t)
	network, _, _ := env.Network(t, "net", false)
	instance, tenant := "test-"+env.ID, "tenant-"+env.ID
	project := "af-" + env.ID
	spec := enginetest.ServerSpec(project+"-web-1", image, network, "")
	spec.Labels = map[string]string{docker.LabelInstance: instance, docker.LabelTenant: tenant, docker.LabelComposeProject: project, docker.LabelComposeService: "web", docker.LabelComposeNumber: "1"}
	id := env.Container(t, spec)

	rec := newRecorder()
	m := &Monitor{Events: env.Runtime(t, instance), Recorder: rec, Waker: rec}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitListening(t, env, image, instance, rec)

	env.StartReady(t, id, network)
	if err := env.D.Kill(context.Background(), id, "KILL"); err != nil {
		t.Fatal(err)
	}
	rec.waitWake(t, tenant)
	deadline := time.Now().Add(5 * time.Second)
	want := []string{"container web-1 started", "container web-1 was sent SIGKILL", "container web-1 died (exit 137)"}
	for {
		events, _ := rec.snapshot()
		joined := strings.Join(events, "\n")
		missing := ""
		for _, w := range want {
			if !strings.Contains(joined, tenant+" container "+w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q among events:\n%s", missing, joined)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitListening returns once the monitor's subscription has reached the
// engine: it removes marker containers (of the instance, of a tenant of
// their own) until the monitor records a marker's destruction.
func waitListening(t *testing.T, env *enginetest.Env, image, instance string, rec *recorder) {
	t.Helper()
	marker := "marker-" + env.ID
	deadline := time.Now().Add(20 * time.Second)
	for n := 1; ; n++ {
		spec := docker.ContainerSpec{Name: env.Name(fmt.Sprintf("marker-%d", n)), Image: image,
			Labels: map[string]string{docker.LabelInstance: instance, docker.LabelTenant: marker}}
		id := env.Container(t, spec)
		if err := env.D.RemoveContainer(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		for wait := time.Now().Add(500 * time.Millisecond); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
			events, _ := rec.snapshot()
			if slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, marker+" ") }) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the monitor recorded no marker in 20 s")
		}
	}
}

func TestActivityInUse(t *testing.T) {
	a := route.NewActivity(nil, nil)
	end := a.Begin("busy")
	a.Begin("other")()
	if got := a.InUse(); !slices.Equal(got, []string{"busy"}) {
		t.Errorf("in use %v", got)
	}
	end()
	if got := a.InUse(); len(got) != 0 {
		t.Errorf("in use after the end %v", got)
	}
}
