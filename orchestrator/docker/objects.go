package docker

import (
	"errors"
	"time"

	"appfactory/orchestrator/runtime"
)

// The engine-level objects the adapter creates and reads: containers,
// networks and volumes. They stay inside the adapter; the orchestrator
// sees tenants (runtime.Stack, runtime.Observation).
// ContainerSpec is what a tenant container may vary. Everything else (limits
// on swap, capabilities, privileges, root filesystem, logs, restart, ports,
// namespaces) is fixed by CreateContainer.
type ContainerSpec struct {
	Name       string
	Image      string
	Cmd        []string
	Entrypoint []string
	Env        []string
	Labels     map[string]string
	// Network is the user-defined network to join; empty means no network.
	Network string
	Aliases []string
	// Volumes are named volumes only: a host path is refused.
	Volumes     []runtime.VolumeMount
	MemoryBytes int64
	CPUs        float64
	PidsLimit   int64
	// User is "uid[:gid]" or a name known to the image; empty keeps the image's.
	User        string
	Healthcheck *runtime.Healthcheck
	// StopTimeout is the grace between SIGTERM and SIGKILL; zero keeps the engine's 10 s.
	StopTimeout time.Duration
}

// Container is a container's actual state.
type Container struct {
	ID      string
	Name    string
	Image   string // the reference it was created from
	ImageID string
	Labels  map[string]string
	// State is created, running, paused, restarting, removing, exited or dead.
	State    string
	Running  bool
	Paused   bool
	ExitCode int
	// Health is starting, healthy or unhealthy; empty without a healthcheck.
	Health     string
	StartedAt  time.Time // zero in a listing
	FinishedAt time.Time // zero in a listing
	// IPs maps network name to the container's IPv4 address there.
	IPs          map[string]string
	OOMKilled    bool
	RestartCount int
}

// NetworkSpec is a tenant's bridge network. Subnet is an IPv4 prefix from
// appfactory's own pool: the engine's default pools hold only about thirty
// user networks.
type NetworkSpec struct {
	Name   string
	Subnet string
	// Internal networks have no route out of the host; the host still reaches
	// their containers.
	Internal bool
	Labels   map[string]string
}

// Network is a network as the engine reports it.
type Network struct {
	ID       string
	Name     string
	Labels   map[string]string
	Subnet   string
	Gateway  string
	Internal bool
}

// VolumeSpec is a named local volume.
type VolumeSpec struct {
	Name   string
	Labels map[string]string
}

// Volume is a volume as the engine reports it.
type Volume struct {
	Name   string
	Labels map[string]string
}

// ErrSubnetOverlap is matched when a network's subnet overlaps one the
// engine already uses: Apply claims another subnet.
var ErrSubnetOverlap = errors.New("subnet overlaps an existing network")

// EngineEvent is an engine event about a container, network or volume.
type EngineEvent struct {
	Type   string // container, network or volume
	Action string // create, start, die, stop, destroy, health_status: healthy, ...
	ID     string
	Name   string
	// Labels holds the actor's attributes other than name, image and
	// exitCode: for a container, its labels.
	Labels   map[string]string
	Time     time.Time
	ExitCode string // set on a container's die
}
