package orchestrator

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
)

// fakeRuntime is an in-memory engine for tests of the reconciler's
// decisions: it keeps containers, networks, volumes and images, logs every
// mutating call, and fails calls on demand.
type fakeRuntime struct {
	mu         sync.Mutex
	containers map[string]*fakeContainer  // by name
	networks   map[string]runtime.Network // by name
	volumes    map[string]runtime.Volume  // by name
	images     map[string]string          // ref -> id
	calls      []string
	// fail makes the next calls whose log line starts with a key fail,
	// as many times as the value says.
	fail map[string]int
	// overlap makes EnsureNetwork refuse these subnets.
	overlap map[string]bool
	// noAddr makes the next inspections of a running container show no
	// address yet, as many times as the value says (the engine may answer
	// so just after a start).
	noAddr map[string]int
	// stopGate, when set, holds every Stop until it is closed.
	stopGate chan struct{}
	// buildErr makes BuildImage fail.
	buildErr error
	// noPause makes it a runtime without the pause tier (Capabilities),
	// whose Pause fails.
	noPause bool
	nextID  int
}

type fakeContainer struct {
	runtime.Container
	spec runtime.ContainerSpec
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{
		containers: map[string]*fakeContainer{},
		networks:   map[string]runtime.Network{},
		volumes:    map[string]runtime.Volume{},
		images:     map[string]string{},
		fail:       map[string]int{},
		overlap:    map[string]bool{},
		noAddr:     map[string]int{},
	}
}

// call logs a call and returns the failure injected for it, if any.
func (f *fakeRuntime) call(format string, args ...any) error {
	line := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, line)
	for k, n := range f.fail {
		if n > 0 && strings.HasPrefix(line, k) {
			f.fail[k] = n - 1
			return fmt.Errorf("injected failure of %s", line)
		}
	}
	return nil
}

// takeCalls returns the mutating calls logged since the last take.
func (f *fakeRuntime) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "list") && !strings.HasPrefix(c, "inspect") && !strings.HasPrefix(c, "image-id") {
			out = append(out, c)
		}
	}
	f.calls = nil
	return out
}

func (f *fakeRuntime) ImageID(_ context.Context, ref string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("image-id %s", ref); err != nil {
		return "", false, err
	}
	id, ok := f.images[ref]
	return id, ok, nil
}

func (f *fakeRuntime) BuildImage(_ context.Context, r io.Reader, tags []string, _ map[string]string, out func(string)) (string, error) {
	_, _ = io.Copy(io.Discard, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("build %s", strings.Join(tags, ",")); err != nil {
		return "", err
	}
	if out != nil {
		out("Step 1/2 : FROM base")
		out("Step 2/2 : COPY rootfs/ /")
	}
	if f.buildErr != nil {
		return "", f.buildErr
	}
	f.nextID++
	id := fmt.Sprintf("sha256:built%d", f.nextID)
	for _, t := range tags {
		f.images[t] = id
	}
	return id, nil
}

func (f *fakeRuntime) EnsureNetwork(_ context.Context, spec runtime.NetworkSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("network-create %s", spec.Name); err != nil {
		return "", err
	}
	if n, ok := f.networks[spec.Name]; ok {
		return n.ID, nil
	}
	if f.overlap[spec.Subnet] {
		return "", fmt.Errorf("create network %s: %w", spec.Name, runtime.ErrSubnetOverlap)
	}
	f.nextID++
	n := runtime.Network{ID: fmt.Sprintf("net%d", f.nextID), Name: spec.Name, Labels: maps.Clone(spec.Labels), Subnet: spec.Subnet, Internal: spec.Internal}
	f.networks[spec.Name] = n
	return n.ID, nil
}

func (f *fakeRuntime) RemoveNetwork(_ context.Context, nameOrID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, n := range f.networks {
		if name == nameOrID || n.ID == nameOrID {
			if err := f.call("network-remove %s", name); err != nil {
				return err
			}
			for _, c := range f.containers {
				if c.spec.Network == name {
					return fmt.Errorf("network %s has active endpoints", name)
				}
			}
			delete(f.networks, name)
			return nil
		}
	}
	return nil
}

func (f *fakeRuntime) ListNetworks(_ context.Context, labels map[string]string) ([]runtime.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.call("list networks")
	var out []runtime.Network
	for _, name := range stack.SortedNames(f.networks) {
		if n := f.networks[name]; hasLabels(n.Labels, labels) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *fakeRuntime) EnsureVolume(_ context.Context, spec runtime.VolumeSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("volume-create %s", spec.Name); err != nil {
		return err
	}
	if _, ok := f.volumes[spec.Name]; !ok {
		f.volumes[spec.Name] = runtime.Volume{Name: spec.Name, Labels: maps.Clone(spec.Labels)}
	}
	return nil
}

func (f *fakeRuntime) RemoveVolume(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.volumes[name]; !ok {
		return nil
	}
	if err := f.call("volume-remove %s", name); err != nil {
		return err
	}
	for _, c := range f.containers {
		for _, v := range c.spec.Volumes {
			if v.Name == name {
				return fmt.Errorf("volume %s is in use: %w", name, runtime.ErrConflict)
			}
		}
	}
	delete(f.volumes, name)
	return nil
}

func (f *fakeRuntime) ListVolumes(_ context.Context, labels map[string]string) ([]runtime.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
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
func (f *fakeRuntime) RemoveImage(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("image-remove %s", ref); err != nil {
		return err
	}
	for _, c := range f.containers {
		if c.Image == ref {
			return fmt.Errorf("remove image %s: %w", ref, runtime.ErrConflict)
		}
	}
	delete(f.images, ref)
	return nil
}

func (f *fakeRuntime) CreateContainer(_ context.Context, spec runtime.ContainerSpec) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("create %s", spec.Name); err != nil {
		return "", false, err
	}
	if c, ok := f.containers[spec.Name]; ok {
		return c.ID, true, nil
	}
	if _, ok := f.networks[spec.Network]; spec.Network != "" && !ok {
		return "", false, fmt.Errorf("network %s: %w", spec.Network, runtime.ErrNotFound)
	}
	f.nextID++
	c := &fakeContainer{spec: spec, Container: runtime.Container{
		ID: fmt.Sprintf("c%d", f.nextID), Name: spec.Name, Image: spec.Image, Labels: maps.Clone(spec.Labels), State: "created", IPs: map[string]string{},
	}}
	f.containers[spec.Name] = c
	return c.ID, false, nil
}

func (f *fakeRuntime) byID(id string) *fakeContainer {
	for _, c := range f.containers {
		if c.ID == id || c.Name == id {
			return c
		}
	}
	return nil
}

func (f *fakeRuntime) Start(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byID(id)
	if c == nil {
		return fmt.Errorf("start %s: %w", id, runtime.ErrNotFound)
	}
	if err := f.call("start %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused = "running", true, false
	if c.spec.Healthcheck != nil {
		c.Health = "healthy"
	}
	if c.spec.Network != "" {
		c.IPs[c.spec.Network] = f.addr(c.spec.Network)
	}
	return nil
}

// addr gives the next free address of a network.
func (f *fakeRuntime) addr(network string) string {
	p, err := netip.ParsePrefix(f.networks[network].Subnet)
	if err != nil {
		return "192.0.2.1"
	}
	used := map[string]bool{}
	for _, c := range f.containers {
		used[c.IPs[network]] = true
	}
	a := p.Addr().Next().Next()
	for used[a.String()] {
		a = a.Next()
	}
	return a.String()
}

func (f *fakeRuntime) Stop(_ context.Context, id string, _ time.Duration) error {
	f.mu.Lock()
	gate := f.stopGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
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

func (f *fakeRuntime) Capabilities() runtime.Capabilities {
	return runtime.Capabilities{Pause: !f.noPause}
}

func (f *fakeRuntime) Pause(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byID(id)
	if f.noPause {
		return fmt.Errorf("pause %s: this runtime cannot pause", c.Name)
	}
	if err := f.call("pause %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused = "paused", false, true
	return nil
}

func (f *fakeRuntime) Unpause(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byID(id)
	if err := f.call("unpause %s", c.Name); err != nil {
		return err
	}
	c.State, c.Running, c.Paused = "running", true, false
	return nil
}

func (f *fakeRuntime) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byID(id)
	if c == nil {
		return nil
	}
	if err := f.call("remove %s", c.Name); err != nil {
		return err
	}
	delete(f.containers, c.Name)
	return nil
}

func (f *fakeRuntime) Inspect(_ context.Context, id string) (runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.call("inspect %s", id)
	c := f.byID(id)
	if c == nil {
		return runtime.Container{}, fmt.Errorf("inspect %s: %w", id, runtime.ErrNotFound)
	}
	out := c.Container
	out.IPs = maps.Clone(c.IPs)
	if f.noAddr[c.Name] > 0 && c.Running {
		f.noAddr[c.Name]--
		out.IPs = map[string]string{}
	}
	return out, nil
}

func (f *fakeRuntime) ListContainers(_ context.Context, labels map[string]string, all bool) ([]runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.call("list containers")
	var out []runtime.Container
	for _, name := range stack.SortedNames(f.containers) {
		c := f.containers[name]
		if hasLabels(c.Labels, labels) && (all || c.Running) {
			cc := c.Container
			cc.IPs = maps.Clone(c.IPs)
			out = append(out, cc)
		}
	}
	return out, nil
}

// kill makes a container exit as if it died.
func (f *fakeRuntime) kill(name string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[name]
	c.State, c.Running, c.ExitCode = "exited", false, code
	c.IPs = map[string]string{}
}

// names lists the names of containers, networks and volumes, sorted.
func (f *fakeRuntime) names() (containers, networks, volumes []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return stack.SortedNames(f.containers), stack.SortedNames(f.networks), stack.SortedNames(f.volumes)
}

func (f *fakeRuntime) container(name string) (fakeContainer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[name]
	if !ok {
		return fakeContainer{}, false
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

var _ runtime.Runtime = (*fakeRuntime)(nil)

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
