package docker

import (
	"context"
	"errors"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

func TestContainerLifecycleIdempotent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	netName, _, _ := e.network(t, "net", false)
	id := e.container(t, serverSpec(e.name("web-1"), image, netName, ""))

	state := func(want string) {
		t.Helper()
		c, err := e.d.Inspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != want {
			t.Fatalf("state = %s, want %s", c.State, want)
		}
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"start", func() error { return e.d.Start(ctx, id) }, "running"},
		{"start again", func() error { return e.d.Start(ctx, id) }, "running"},
		{"pause", func() error { return e.d.Pause(ctx, id) }, "paused"},
		{"pause again", func() error { return e.d.Pause(ctx, id) }, "paused"},
		{"unpause", func() error { return e.d.Unpause(ctx, id) }, "running"},
		{"unpause again", func() error { return e.d.Unpause(ctx, id) }, "running"},
		{"pause to start", func() error { return e.d.Pause(ctx, id) }, "paused"},
		{"start a paused one", func() error { return e.d.Start(ctx, id) }, "running"},
		{"restart", func() error { return e.d.Restart(ctx, id, time.Second) }, "running"},
		{"stop", func() error { return e.d.Stop(ctx, id, 5*time.Second) }, "exited"},
		{"stop again", func() error { return e.d.Stop(ctx, id, 5*time.Second) }, "exited"},
		// Ready before it is paused and stopped: a SIGTERM that reaches a
		// Go program before its main has asked for it (a stop within
		// milliseconds of the start) ends PID 1 with exit status 2, not
		// the graceful 0 this test checks below.
		{"start after stop", func() error { e.startReady(t, id, netName); return nil }, "running"},
		{"pause to stop", func() error { return e.d.Pause(ctx, id) }, "paused"},
		{"stop a paused one", func() error { return e.d.Stop(ctx, id, 5*time.Second) }, "exited"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		state(s.want)
	}
	c, err := e.d.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.ExitCode != 0 || c.StartedAt.IsZero() || c.FinishedAt.Before(c.StartedAt) || c.OOMKilled {
		t.Errorf("after graceful stop: %+v", c)
	}
	if err := e.d.Pause(ctx, id); err == nil {
		t.Error("pause of a stopped container succeeded")
	}

	// A container answers on its network address, including after a restart.
	base := e.startReady(t, id, netName)
	if got := httpGet(t, base+"/healthz"); got != "ok\n" {
		t.Errorf("healthz = %q", got)
	}
	go func() { _ = e.d.Stop(context.Background(), id, 5*time.Second) }()
	if code, err := e.d.Wait(ctx, id); err != nil || code != 0 {
		t.Errorf("wait = %d, %v; want 0 after SIGTERM", code, err)
	}

	for range 2 {
		if err := e.d.RemoveContainer(ctx, id); err != nil {
			t.Fatalf("remove: %v", err)
		}
	}
	if _, err := e.d.Inspect(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("inspect removed: err = %v, want ErrNotFound", err)
	}
	for name, call := range map[string]func() error{
		"start":   func() error { return e.d.Start(ctx, id) },
		"pause":   func() error { return e.d.Pause(ctx, id) },
		"unpause": func() error { return e.d.Unpause(ctx, id) },
	} {
		if err := call(); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("%s of a removed container: err = %v, want ErrNotFound", name, err)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	spec := serverSpec(e.name("web-1"), image, netName, "")
	spec.Healthcheck = &runtime.Healthcheck{
		Test:        []string{"CMD", "/server", "check"},
		Interval:    200 * time.Millisecond,
		Timeout:     time.Second,
		StartPeriod: 100 * time.Millisecond,
		Retries:     3,
	}
	id := e.container(t, spec)
	raw, err := e.d.cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if hc := raw.Config.Healthcheck; hc == nil || hc.Interval != 200*time.Millisecond || hc.Timeout != time.Second || hc.StartPeriod != 100*time.Millisecond || hc.Retries != 3 {
		t.Errorf("healthcheck = %+v", raw.Config.Healthcheck)
	}
	e.startReady(t, id, netName)

	var c Container
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err = e.d.Inspect(ctx, id); err != nil {
			t.Fatal(err)
		}
		if c.Health == "healthy" {
			break
		}
	}
	if c.Health != "healthy" {
		t.Fatalf("health = %q, want healthy", c.Health)
	}
	list, err := e.d.ListContainers(ctx, map[string]string{testLabel: e.id}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Health != "healthy" {
		t.Errorf("listed as %+v, want healthy", list)
	}
}
