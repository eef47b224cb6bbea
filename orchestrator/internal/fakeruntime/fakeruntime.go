// Package fakeruntime is an in-memory runtime.Runtime for tests: it
// implements only the engine contract, so it drives the reconciler, router
// and passivator tests without Docker. Only tests import it.
package fakeruntime

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"

	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// Runtime is an in-memory engine for tests of the reconciler's
// decisions: it keeps containers, networks, volumes and images, logs every
// mutating call, and fails calls on demand.
type Runtime struct {
	Mu         sync.Mutex
	Containers map[string]*Container      // by name
	networks   map[string]runtime.Network // by name
	volumes    map[string]runtime.Volume  // by name
	Images     map[string]string          // ref -> id
	calls      []string
	// Fail makes the next calls whose log line starts with a key fail,
	// as many times as the value says.
	Fail map[string]int
	// Overlap makes EnsureNetwork refuse these subnets.
	Overlap map[string]bool
	// NoAddr makes the next inspections of a running container show no
	// address yet, as many times as the value says (the engine may answer
	// so just after a start).
	NoAddr map[string]int
	// StopGate, when set, holds every Stop until it is closed.
	StopGate chan struct{}
	// StopsAtGate counts the Stops that have reached StopGate, so a test
	// knows one is held rather than guessing with a sleep.
	StopsAtGate int
	// BuildErr makes BuildImage fail.
	BuildErr error
	// NoPause makes it a runtime without the pause tier (Capabilities),
	// whose Pause fails.
	NoPause bool
	nextID  int
}

// Container is a stored container: what Inspect shows, and the spec it was made from.
type Container struct {
	runtime.Container
	Spec runtime.ContainerSpec
}

// New returns an empty fake engine.
func New() *Runtime {
	return &Runtime{
		Containers: map[string]*Container{},
		networks:   map[string]runtime.Network{},
		volumes:    map[string]runtime.Volume{},
		Images:     map[string]string{},
		Fail:       map[string]int{},
		Overlap:    map[string]bool{},
		NoAddr:     map[string]int{},
	}
}

// call logs a call and returns the failure injected for it, if any.
func (f *Runtime) call(format string, args ...any) error {
	line := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, line)
	for k, n := range f.Fail {
		if n > 0 && strings.HasPrefix(line, k) {
			f.Fail[k] = n - 1
			return fmt.Errorf("injected failure of %s", line)
		}
	}
	return nil
}

// TakeCalls returns the mutating calls logged since the last take.
func (f *Runtime) TakeCalls() []string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "list") && !strings.HasPrefix(c, "inspect") && !strings.HasPrefix(c, "image-id") {
			out = append(out, c)
		}
	}
	f.calls = nil
	return out
}

// ImageID implements runtime.Runtime.
func (f *Runtime) ImageID(_ context.Context, ref string) (string, bool, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.call("image-id %s", ref); err != nil {
		return "", false, err
	}
	id, ok := f.Images[ref]
	return id, ok, nil
}

// BuildImage implements runtime.Runtime.
func (f *Runtime) BuildImage(_ context.Context, r io.Reader, tags []string, _ map[string]string, out func(string)) (string, error) {
	_, _ = io.Copy(io.Discard, r)
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.call("build %s", strings.Join(tags, ",")); err != nil {
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

// EnsureNetwork implements runtime.Runtime.
func (f *Runtime) EnsureNetwork(_ context.Context, spec runtime.NetworkSpec) (string, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.call("network-create %s", spec.Name); err != nil {
		return "", err
	}
	if n, ok := f.networks[spec.Name]; ok {
		return n.ID, nil
	}
	if f.Overlap[spec.Subnet] {
		return "", fmt.Errorf("create network %s: %w", spec.Name, runtime.ErrSubnetOverlap)
	}
	f.nextID++
	n := runtime.Network{ID: fmt.Sprintf("net%d", f.nextID), Name: spec.Name, Labels: maps.Clone(spec.Labels), Subnet: spec.Subnet, Internal: spec.Internal}
	f.networks[spec.Name] = n
	return n.ID, nil
}

// RemoveNetwork implements runtime.Runtime.
func (f *Runtime) RemoveNetwork(_ context.Context, nameOrID string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for name, n := range f.networks {
		if name == nameOrID || n.ID == nameOrID {
			if err := f.call("network-remove %s", name); err != nil {
				return err
			}
			for _, c := range f.Containers {
				if c.Spec.Network == name {
					return fmt.Errorf("network %s has active endpoints", name)
				}
			}
			delete(f.networks, name)
			return nil
		}
	}
	return nil
}

// ListNetworks implements runtime.Runtime.
func (f *Runtime) ListNetworks(_ context.Context, labels map[string]string) ([]runtime.Network, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	_ = f.call("list networks")
	var out []runtime.Network
	for _, name := range stack.SortedNames(f.networks) {
		if n := f.networks[name]; hasLabels(n.Labels, labels) {
			out = append(out, n)
		}
	}
	return out, nil
}

// EnsureVolume implements runtime.Runtime.
func (f *Runtime) EnsureVolume(_ context.Context, spec runtime.VolumeSpec) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.call("volume-create %s", spec.Name); err != nil {
		return err
	}
	if _, ok := f.volumes[spec.Name]; !ok {
		f.volumes[spec.Name] = runtime.Volume{Name: spec.Name, Labels: maps.Clone(spec.Labels)}
	}
	return nil
}

// RemoveVolume implements runtime.Runtime.
func (f *Runtime) RemoveVolume(_ context.Context, name string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if _, ok := f.volumes[name]; !ok {
		return nil
	}
	if err := f.call("volume-remove %s", name); err != nil {
		return err
	}
	for _, c := range f.Containers {
		for _, v := range c.Spec.Volumes {
			if v.Name == name {
				return fmt.Errorf("volume %s is in use: %w", name, runtime.ErrConflict)
			}
		}
	}
	delete(f.volumes, name)
	return nil
}

// ListVolumes implements runtime.Runtime.
func (f *Runtime) ListVolumes(_ context.Context, labels map[string]string) ([]runtime.Volume, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	_ = f.call("list volumes")
	var out []runtime.Volume
	for _, name := range stack.SortedNames(f.volumes) {
		if v := f.volumes[name]; hasLabels(v.Labels, labels) {
			out = append(out, v)
		}
	}
	return out, nil
}

// RemoveImage refuses, as the engine does, an image a container was
// created from.
func (f *Runtime) RemoveImage(_ context.Context, ref string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.call("image-remove %s", ref); err != nil {
		return err
	}
	for _, c := range f.Containers {
		if c.Image == ref {
			return fmt.Errorf("remove image %s: %w", ref, runtime.ErrConflict)
		}
	}
	delete(f.Images, ref)
	return nil
}
