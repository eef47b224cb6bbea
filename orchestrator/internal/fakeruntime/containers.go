package fakeruntime

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"time"

	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// CreateContainer implements runtime.Runtime.
func (f *Runtime) CreateContainer(_ context.Context, spec runtime.ContainerSpec) (string, bool, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.call("create %s", spec.Name); err != nil {
		return "", false, err
	}
	if c, ok := f.Containers[spec.Name]; ok {
		return c.ID, true, nil
	}
	if _, ok := f.networks[spec.Network]; spec.Network != "" && !ok {
		return "", false, fmt.Errorf("network %s: %w", spec.Network, runtime.ErrNotFound)
	}
	f.nextID++
	c := &Container{Spec: spec, Container: runtime.Container{
		ID: fmt.Sprintf("c%d", f.nextID), Name: spec.Name, Image: spec.Image, Labels: maps.Clone(spec.Labels), State: "created", IPs: map[string]string{},
	}}
	f.Containers[spec.Name] = c
	return c.ID, false, nil
}

func (f *Runtime) byID(id string) *Container {
	for _, c := range f.Containers {
		if c.ID == id || c.Name == id {
			return c
		}
	}
	return nil
}

// Start implements runtime.Runtime.
func (f *Runtime) Start(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c := f.byID(id)
	if c == nil {
		return fmt.Errorf("start %s: %w", id, runtime.ErrNotFound)
	}
	if err := f.call("start %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused = "running", true, false
	if c.Spec.Healthcheck != nil {
		c.Health = "healthy"
	}
	if c.Spec.Network != "" {
		c.IPs[c.Spec.Network] = f.addr(c.Spec.Network)
	}
	return nil
}

// addr gives the next free address of a network.
func (f *Runtime) addr(network string) string {
	p, err := netip.ParsePrefix(f.networks[network].Subnet)
	if err != nil {
		return "192.0.2.1"
	}
	used := map[string]bool{}
	for _, c := range f.Containers {
		used[c.IPs[network]] = true
	}
	a := p.Addr().Next().Next()
	for used[a.String()] {
		a = a.Next()
	}
	return a.String()
}

// Stop implements runtime.Runtime.
func (f *Runtime) Stop(_ context.Context, id string, _ time.Duration) error {
	f.Mu.Lock()
	gate := f.StopGate
	if gate != nil {
		f.StopsAtGate++
	}
	f.Mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c := f.byID(id)
	if c == nil {
		return fmt.Errorf("stop %s: %w", id, runtime.ErrNotFound)
	}
	if err := f.call("stop %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused, c.ExitCode = "exited", false, false, 0
	c.IPs = map[string]string{}
	return nil
}

// Capabilities implements runtime.Runtime.
func (f *Runtime) Capabilities() runtime.Capabilities {
	return runtime.Capabilities{Pause: !f.NoPause}
}

// Pause implements runtime.Runtime.
func (f *Runtime) Pause(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c := f.byID(id)
	if f.NoPause {
		return fmt.Errorf("pause %s: this runtime cannot pause", c.Name)
	}
	if err := f.call("pause %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused = "paused", false, true
	return nil
}

// Unpause implements runtime.Runtime.
func (f *Runtime) Unpause(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c := f.byID(id)
	if err := f.call("unpause %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused = "running", true, false
	return nil
}

// RemoveContainer implements runtime.Runtime.
func (f *Runtime) RemoveContainer(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c := f.byID(id)
	if c == nil {
		return nil
	}
	if err := f.call("remove %s", c.Name); err != nil {
		return err
	}
	delete(f.Containers, c.Name)
	return nil
}

// Inspect implements runtime.Runtime.
func (f *Runtime) Inspect(_ context.Context, id string) (runtime.Container, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	_ = f.call("inspect %s", id)
	c := f.byID(id)
	if c == nil {
		return runtime.Container{}, fmt.Errorf("inspect %s: %w", id, runtime.ErrNotFound)
	}
	out := c.Container
	out.IPs = maps.Clone(c.IPs)
	if f.NoAddr[c.Name] > 0 && c.Running {
		f.NoAddr[c.Name]--
		out.IPs = map[string]string{}
	}
	return out, nil
}

// ListContainers implements runtime.Runtime.
func (f *Runtime) ListContainers(_ context.Context, labels map[string]string, all bool) ([]runtime.Container, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	_ = f.call("list containers")
	var out []runtime.Container
	for _, name := range stack.SortedNames(f.Containers) {
		c := f.Containers[name]
		if hasLabels(c.Labels, labels) && (all || c.Running) {
			cc := c.Container
			cc.IPs = maps.Clone(c.IPs)
			out = append(out, cc)
		}
	}
	return out, nil
}

// Kill makes a container exit as if it died.
func (f *Runtime) Kill(name string, code int) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c := f.Containers[name]
	c.State, c.Running, c.ExitCode = "exited", false, code
	c.IPs = map[string]string{}
}

// Names lists the names of containers, networks and volumes, sorted.
func (f *Runtime) Names() (containers, networks, volumes []string) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return stack.SortedNames(f.Containers), stack.SortedNames(f.networks), stack.SortedNames(f.volumes)
}

// Container returns a copy of the stored container of that name.
func (f *Runtime) Container(name string) (Container, bool) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, ok := f.Containers[name]
	if !ok {
		return Container{}, false
	}
	return *c, true
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || v != "" && got != v {
			return false
		}
	}
	return true
}

var _ runtime.Runtime = (*Runtime)(nil)
