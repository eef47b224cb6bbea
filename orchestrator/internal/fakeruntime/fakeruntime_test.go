package fakeruntime

import (
	"context"
	"errors"
	"slices"
	"testing"

	"appfactory/orchestrator/internal/runtimetest"
	"appfactory/orchestrator/runtime"
)

func TestContract(t *testing.T) {
	runtimetest.Run(t, func(*testing.T) runtime.Runtime {
		f := New()
		f.Images["example/app:1"] = "sha256:app1"
		f.OnExec = failFalse
		return f
	}, runtimetest.Options{Image: "example/app:1", ExecOK: []string{"true"}, ExecFail: []string{"false"}})
}

func TestContractWithoutPause(t *testing.T) {
	runtimetest.Run(t, func(*testing.T) runtime.Runtime {
		f := New()
		f.NoPause = true
		f.OnExec = failFalse
		return f
	}, runtimetest.Options{Image: "example/app:1", ExecOK: []string{"true"}, ExecFail: []string{"false"}})
}

// failFalse is a command that fails when it is "false", as in a shell.
func failFalse(_, _ string, cmd []string) error {
	if cmd[0] == "false" {
		return errors.New("exit code 1")
	}
	return nil
}

func testStack(mode runtime.Mode) *runtime.Stack {
	return &runtime.Stack{Tenant: "t1", Slug: "acme", Generation: 1, Mode: mode, Volumes: []string{"data"},
		Services: []runtime.Service{
			{Name: "store", Replicas: 1, WaitHealthy: true, Image: "img"},
			{Name: "web", Replicas: 2, Image: "img"},
		}}
}

func TestCallsAndFailures(t *testing.T) {
	ctx := context.Background()
	f := New()
	f.Fail["start:web-2"] = 1
	_, err := f.Apply(ctx, testStack(runtime.ModeRunning), nil)
	var se *runtime.StepError
	if !errors.As(err, &se) || se.Step != "Starting container acme-web-2 failed" {
		t.Fatalf("apply with a failing start: %v", err)
	}
	want := []string{"create-network acme", "create-volume acme/data", "create acme/store-1", "create acme/web-1", "create acme/web-2",
		"start acme/store-1", "start acme/web-1", "start acme/web-2"}
	if got := f.TakeCalls(); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if _, err := f.Apply(ctx, testStack(runtime.ModeRunning), nil); err != nil {
		t.Fatal(err)
	}
	if got := f.TakeCalls(); !slices.Equal(got, []string{"start acme/web-2"}) {
		t.Fatalf("calls %q", got)
	}
	f.Kill("t1", "web-1", 137)
	f.Fail["apply"] = 1
	if _, err := f.Apply(ctx, testStack(runtime.ModeRunning), nil); err == nil || len(f.TakeCalls()) != 0 {
		t.Fatalf("a failing apply: %v", err)
	}
	rp, _ := f.Replica("t1", "web-1")
	if rp.Running || rp.ExitCode != 137 || rp.Address != "" {
		t.Fatalf("killed replica %+v", rp.Replica)
	}
	if _, err := f.Apply(ctx, testStack(runtime.ModeRunning), nil); err != nil {
		t.Fatal(err)
	}
	if got := f.TakeCalls(); !slices.Equal(got, []string{"start acme/web-1"}) {
		t.Fatalf("calls %q", got)
	}
	f.NoPause = true
	if _, err := f.Apply(ctx, testStack(runtime.ModePaused), nil); err == nil {
		t.Fatal("a runtime without pause paused")
	}
}

func TestAddressFunction(t *testing.T) {
	f := New()
	f.Address = func(tenant, replica string) string { return "127.0.0.1" }
	o, err := f.Apply(context.Background(), testStack(runtime.ModeRunning), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range o.Replicas {
		if rp.Address != "127.0.0.1" {
			t.Errorf("%s at %q", rp.Name, rp.Address)
		}
	}
}
