package enginetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/docker/swarm"
)

// The test engine's swarm is shared by every test binary that runs at the
// same time (go test runs packages in parallel). Each binary that needs it
// holds a shared lock on swarmLock until it ends; the one that finds the
// engine outside a swarm initialises it, under the exclusive lock, and
// leaves a mark. The last binary to let go, the one that then gets the
// exclusive lock, makes the engine leave the swarm if a test initialised
// it: an engine that was in a swarm before the tests stays in it.
var (
	swarmLock = filepath.Join(os.TempDir(), "appfactory-test-swarm.lock")
	swarmMark = filepath.Join(os.TempDir(), "appfactory-test-swarm.initialised")
)

// joined is this binary's hold on the swarm.
var joined struct {
	mu   sync.Mutex
	lock *os.File
	err  error
}

// Swarm makes the test's engine the manager of a one-node swarm, for as
// long as this test binary runs (Main leaves it), and removes the swarm
// services carrying the test's label when the test ends.
func (e *Env) Swarm(t testing.TB) {
	t.Helper()
	joined.mu.Lock()
	defer joined.mu.Unlock()
	if joined.lock == nil && joined.err == nil {
		joined.lock, joined.err = joinSwarm(e.D)
	}
	if joined.err != nil {
		t.Fatalf("swarm for the tests: %v", joined.err)
	}
	e.swarm = true
}

// joinSwarm takes the exclusive lock, initialises the swarm if the engine
// is in none, and keeps a shared lock.
func joinSwarm(d *docker.Docker) (*os.File, error) {
	f, err := os.OpenFile(swarmLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	active, err := swarm.Active(ctx, d)
	if err == nil && !active {
		if err = swarm.Init(ctx, d, "127.0.0.1"); err == nil {
			err = os.WriteFile(swarmMark, nil, 0o600)
		}
	}
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// leaveSwarm lets go of this binary's hold; the last one leaves the swarm
// a test initialised.
func leaveSwarm() error {
	joined.mu.Lock()
	defer joined.mu.Unlock()
	f := joined.lock
	if f == nil {
		return nil
	}
	joined.lock = nil
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil // another binary still holds it and leaves after us
	}
	if _, err := os.Stat(swarmMark); err != nil {
		return nil // the engine was in a swarm before the tests
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := docker.New(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := swarm.Leave(ctx, d); err != nil {
		return err
	}
	return os.Remove(swarmMark)
}

// sweepServices removes the test's swarm services and waits for the
// engine to remove their tasks' containers.
func (e *Env) sweepServices(ctx context.Context, only map[string]string) error {
	n, err := swarm.RemoveServices(ctx, e.D, only)
	if err != nil || n == 0 {
		return err
	}
	for {
		cs, err := e.D.ListContainers(ctx, map[string]string{TestLabel: e.ID}, true)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(cs, func(c docker.Container) bool { return c.Labels[docker.LabelSwarmTask] != "" }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("the swarm services' containers are still there")
		case <-time.After(200 * time.Millisecond):
		}
	}
}
