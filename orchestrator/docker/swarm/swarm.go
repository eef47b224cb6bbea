// Package swarm is the runtime adapter over Docker Swarm: a tenant's stack
// becomes swarm services on an overlay network of its own, passivation
// scales them to zero and activation back to their replicas. It drives the
// same engine as orchestrator/docker, whose adapter it keeps for what does
// not change with swarm mode: images, the monitor (events, stats and logs
// of the tasks' containers) and the volume snapshots.
//
// The overlay networks are internal and no port is published: the router
// runs on the host, which has no route to an overlay, and reaches the
// tasks on their overlay addresses through DialContext, which makes its
// sockets inside the network's namespace on this node. Published ports
// would open the tenants on every interface of their node (swarm binds no
// single address) and give each task a leg on docker_gwbridge, with a way
// out and to the host; the ingress mesh did not answer on loopback on the
// engines measured.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/client"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/runtime"
)

// Labels of swarm objects beyond those of orchestrator/docker.
const (
	// LabelImage keeps the reference a service was made from: the spec
	// names the image by its id, so the engine never asks a registry.
	LabelImage = "appfactory.image"
	// LabelPool is the node label that places an environment's replicas
	// (node.labels.appfactory.pool==trial) when Options.Pools is set.
	LabelPool = "appfactory.pool"
)

// Options configure a Runtime.
type Options struct {
	// Docker are the options of the engine adapter underneath: Instance
	// and Subnets (the overlay networks take their subnets from the same
	// pool), HealthTimeout (the wait for a service's tasks to run).
	Docker docker.Options
	// Encrypted overlay networks encrypt the traffic between nodes (IPsec).
	Encrypted bool
	// Pools places each environment's replicas only on nodes labelled
	// appfactory.pool=<environment>.
	Pools bool
	// NetnsDir is where the engine keeps its network namespaces (default
	// DefaultNetnsDir), for DialContext.
	NetnsDir string
}

// Runtime is the tenant-level runtime over a swarm: it implements
// runtime.Runtime and runtime.Monitor.
type Runtime struct {
	*docker.Runtime
	cli  *client.Client
	opts Options
	// node is this engine's swarm node id: its tasks' containers are read
	// for their state.
	node     string
	overlays overlays
}

var (
	_ runtime.Runtime = (*Runtime)(nil)
	_ runtime.Monitor = (*Runtime)(nil)
	_ runtime.Dialer  = (*Runtime)(nil)
)

// ErrNotManager is returned by New when the engine is not a manager of an
// active swarm.
var ErrNotManager = errors.New("the Docker engine is not a manager of an active swarm (run docker swarm init)")

// New returns the swarm runtime of an engine that manages a swarm.
func New(ctx context.Context, d *docker.Docker, o Options) (*Runtime, error) {
	base, err := docker.NewRuntime(d, o.Docker)
	if err != nil {
		return nil, err
	}
	if o.NetnsDir == "" {
		o.NetnsDir = DefaultNetnsDir
	}
	if err := checkDialer(o.NetnsDir); err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	if o.Docker.HealthTimeout <= 0 {
		o.Docker.HealthTimeout = 60 * time.Second
	}
	info, err := d.Client().Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker info: %w", err)
	}
	if info.Swarm.LocalNodeState != "active" || !info.Swarm.ControlAvailable {
		return nil, ErrNotManager
	}
	return &Runtime{Runtime: base, cli: d.Client(), opts: o, node: info.Swarm.NodeID}, nil
}

// Capabilities implements runtime.Runtime: a paused tenant's task
// containers of this node are frozen (Resume, from the engine adapter,
// thaws them), and a stopped tenant is a service scaled to zero.
func (r *Runtime) Capabilities() runtime.Capabilities {
	return runtime.Capabilities{Pause: true, StopRemovesReplicas: true}
}

// instance is the instance id every object carries.
func (r *Runtime) instance() string { return r.opts.Docker.Instance }

// ServiceName is a tenant service's swarm service: af-<instance>-<slug>-<service>.
func ServiceName(instance, slug, service string) string {
	return docker.NamePrefix(instance, slug) + "-" + service
}
