package runtime

import "time"

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
	Volumes     []VolumeMount
	MemoryBytes int64
	CPUs        float64
	PidsLimit   int64
	// User is "uid[:gid]" or a name known to the image; empty keeps the image's.
	User        string
	Healthcheck *Healthcheck
	// StopTimeout is the grace between SIGTERM and SIGKILL; zero keeps the engine's 10 s.
	StopTimeout time.Duration
}

// VolumeMount mounts a named volume at Target.
type VolumeMount struct {
	Name     string
	Target   string
	ReadOnly bool
}

// Healthcheck is the engine-run health probe of a container.
type Healthcheck struct {
	// Test is as in Compose: ["CMD", args...], ["CMD-SHELL", cmd] or ["NONE"].
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
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
