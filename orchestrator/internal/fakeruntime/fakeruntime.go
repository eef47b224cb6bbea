// Package fakeruntime is an in-memory runtime.Runtime for tests: it
// implements only the tenant-level contract (and passes its contract tests,
// orchestrator/runtime/runtimetest), so it drives the reconciler, router
// and passivator tests without an engine. Only tests import it.
package fakeruntime

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"appfactory/orchestrator/runtime"
)

// Runtime is an in-memory runtime for tests of the orchestrator's
// decisions: per tenant a network, volumes and replicas, plus images. It
// logs every change it makes (TakeCalls) and fails operations and steps on
// demand (Fail).
type Runtime struct {
	Mu      sync.Mutex
	tenants map[string]*tenant // by tenant id
	Images  map[string]string  // ref -> id
	calls   []string
	// Fail makes the next calls of an operation or step fail, as many
	// times as the value says. A key is an operation ("apply", "observe",
	// "resume", "remove", "tenants", "image-id", "build", "remove-image"),
	// a step ("create-network", "create-volume", "create", "start",
	// "unpause", "stop", "pause", "remove-container", "remove-volume",
	// "remove-network"), or a step on one object ("start:web-1",
	// "create-volume:data"), of any tenant.
	Fail map[string]int
	// StopGate, when set, holds every stop of a replica until it is closed.
	StopGate chan struct{}
	// StopsAtGate counts the stops that have reached StopGate, so a test
	// knows one is held rather than guessing with a sleep.
	StopsAtGate int
	// BuildErr makes BuildImage fail.
	BuildErr error
	// NoPause makes it a runtime without the pause tier (Capabilities),
	// whose pause of a replica fails.
	NoPause bool
	// Address, when set, gives the address of a replica as it starts (a
	// test that needs a backend it can reach); otherwise every start takes
	// the next address of 10.99.0.0/16.
	Address func(tenant, replica string) string
	// OnExec, when set, is what a command run by Exec does.
	OnExec func(tenant, replica string, cmd []string) error
	nextID int
	addrs  int
}

var _ runtime.Runtime = (*Runtime)(nil)

// tenant is a tenant's objects.
type tenant struct {
	id, slug string
	network  bool
	volumes  map[string]bool
	// files are the volumes' content (Snapshot, RestoreSnapshot, WriteFile).
	files    map[string][]file
	roots    map[string]tar.Header // the volumes' own directory entries
	replicas map[string]*Replica   // by "<service>-<n>"
}

// Replica is a stored replica: what Observe shows of it, and what it was
// made from.
type Replica struct {
	runtime.Replica
	// Spec is the service the replica was made from.
	Spec runtime.Service
	// Labels are the stack's labels when it was made.
	Labels map[string]string
	slug   string
}

// New returns an empty fake runtime.
func New() *Runtime {
	return &Runtime{tenants: map[string]*tenant{}, Images: map[string]string{}, Fail: map[string]int{}}
}

// Capabilities implements runtime.Runtime.
func (f *Runtime) Capabilities() runtime.Capabilities {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return runtime.Capabilities{Pause: !f.NoPause}
}

// failLocked returns the failure injected for an operation or a step on
// object, if any; f.Mu is held.
func (f *Runtime) failLocked(op, object string) error {
	keys := []string{op}
	if object != "" {
		keys = []string{op + ":" + object, op}
	}
	for _, k := range keys {
		if f.Fail[k] > 0 {
			f.Fail[k]--
			return fmt.Errorf("injected failure of %s", k)
		}
	}
	return nil
}

// check returns the failure injected for an operation, if any.
func (f *Runtime) check(op string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return f.failLocked(op, "")
}

// logLocked logs a change; f.Mu is held.
func (f *Runtime) logLocked(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// TakeCalls returns the changes logged since the last take, one a line:
// "create-network acme", "create-volume acme/data", "create acme/web-1",
// "start acme/web-1", "unpause acme/web-1", "stop acme/web-1",
// "pause acme/web-1", "remove-container acme/web-1", "remove-volume
// acme/data", "remove-network acme", "build <tags>", "remove-image <ref>".
// Reads (Observe, Tenants, ImageID) are not logged.
func (f *Runtime) TakeCalls() []string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// ImageID implements runtime.Images.
func (f *Runtime) ImageID(_ context.Context, ref string) (string, bool, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.failLocked("image-id", ""); err != nil {
		return "", false, err
	}
	id, ok := f.Images[ref]
	return id, ok, nil
}

// BuildImage implements runtime.Images: the context is read, two steps
// are written out, and the tags point at a new id.
func (f *Runtime) BuildImage(_ context.Context, r io.Reader, tags []string, _ map[string]string, out func(string)) (string, error) {
	_, _ = io.Copy(io.Discard, r)
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.logLocked("build %s", strings.Join(tags, ","))
	if err := f.failLocked("build", ""); err != nil {
		return "", err
	}
	if out != nil {
		out("Step 1/2 : FROM base")
		out("Step 2/2 : COPY rootfs/ /")
	}
	if f.BuildErr != nil {
		return "", f.BuildErr
	}
	f.nextID++
	id := fmt.Sprintf("sha256:built%d", f.nextID)
	for _, t := range tags {
		f.Images[t] = id
	}
	return id, nil
}

// RemoveImage implements runtime.Images: as the engine does, it refuses
// an image a replica was made from.
func (f *Runtime) RemoveImage(_ context.Context, ref string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.logLocked("remove-image %s", ref)
	if err := f.failLocked("remove-image", ""); err != nil {
		return err
	}
	for _, t := range f.tenants {
		for _, rp := range t.replicas {
			if rp.Image == ref {
				return fmt.Errorf("remove image %s: %w", ref, runtime.ErrConflict)
			}
		}
	}
	delete(f.Images, ref)
	return nil
}

// Kill makes a tenant's replica exit as if it died, with code.
func (f *Runtime) Kill(tenantID, replica string, code int) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	t := f.tenants[tenantID]
	if t == nil || t.replicas[replica] == nil {
		panic(fmt.Sprintf("fakeruntime: Kill of %s of tenant %s, which does not exist", replica, tenantID))
	}
	rp := t.replicas[replica]
	rp.State, rp.Running, rp.Paused, rp.ExitCode, rp.Address, rp.Health = "exited", false, false, code, "", ""
}

// Replica returns a copy of a tenant's stored replica.
func (f *Runtime) Replica(tenantID, name string) (Replica, bool) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	t := f.tenants[tenantID]
	if t == nil || t.replicas[name] == nil {
		return Replica{}, false
	}
	return *t.replicas[name], true
}

// quiet is the Reporter of a caller that gave none.
type quiet struct{}

func (quiet) Begin(context.Context, bool) error       { return nil }
func (quiet) Changed(context.Context, runtime.Change) {}
func (quiet) Point(string)                            {}
