// Package runtime is the contract between appfactory's orchestrator and a
// container engine: the specs it asks for, the state it observes, the
// events and samples it reads, and the interface the reconciler drives. It
// imports no package of appfactory, so an adapter (orchestrator/docker, a
// later Swarm one) depends on it alone and the orchestrator never sees an
// engine's client.
package runtime

import (
	"context"
	"io"
	"time"
)

// Capabilities say what a runtime can do beyond the common ground, so the
// orchestrator leaves out what an engine cannot do rather than fail at it
// on every idle tenant.
type Capabilities struct {
	// Pause is whether containers can be frozen and resumed (the pause tier
	// of passivation); without it idle tenants are only stopped.
	Pause bool
}

// Runtime is what the reconciler needs of the container engine.
// orchestrator/docker implements it; unit tests of the reconciler's
// decisions use a fake.
type Runtime interface {
	ImageID(ctx context.Context, ref string) (id string, ok bool, err error)
	BuildImage(ctx context.Context, buildContext io.Reader, tags []string, labels map[string]string, out func(line string)) (string, error)
	EnsureNetwork(ctx context.Context, spec NetworkSpec) (string, error)
	RemoveNetwork(ctx context.Context, nameOrID string) error
	ListNetworks(ctx context.Context, labels map[string]string) ([]Network, error)
	EnsureVolume(ctx context.Context, spec VolumeSpec) error
	RemoveVolume(ctx context.Context, name string) error
	ListVolumes(ctx context.Context, labels map[string]string) ([]Volume, error)
	CreateContainer(ctx context.Context, spec ContainerSpec) (id string, adopted bool, err error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Pause(ctx context.Context, id string) error
	Unpause(ctx context.Context, id string) error
	RemoveContainer(ctx context.Context, id string) error
	RemoveImage(ctx context.Context, ref string) error
	Inspect(ctx context.Context, id string) (Container, error)
	ListContainers(ctx context.Context, labels map[string]string, all bool) ([]Container, error)
	// Capabilities says which optional operations (Pause, Unpause) work.
	Capabilities() Capabilities
}
