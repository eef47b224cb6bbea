package runtime

import (
	"context"
	"io"
	"time"
)

// Event is an engine event about a tenant's replica, network or volume.
type Event struct {
	Tenant string
	// Replica is "<service>-<n>" for a replica's event.
	Replica string
	Type    string // container, network or volume
	Action  string // create, start, die, stop, destroy, kill, oom, health_status: healthy, ...
	ID      string
	Name    string // the engine's name of the object
	Time    time.Time
	// ExitCode is set on a replica's die.
	ExitCode string
	// Signal is set on a kill: the signal's number.
	Signal string
}

// Monitor is the read side of a runtime: events of this instance's tenant
// objects, resource samples, logs and the host.
type Monitor interface {
	Events(ctx context.Context) (<-chan Event, <-chan error)
	Stats(ctx context.Context, replicaID string) (Stats, error)
	Logs(ctx context.Context, replicaID string, opts LogOptions) (io.ReadCloser, error)
	Host(ctx context.Context) (HostInfo, error)
}

// Stats is one resource sample of a container.
type Stats struct {
	// CPUPercent is of one CPU (200 is two CPUs busy), over the engine's last sampling interval.
	CPUPercent float64
	// MemBytes is usage less the inactive file cache, as docker stats shows it.
	MemBytes int64
	MemLimit int64
	Pids     int64
	At       time.Time
	// The raw counters, for CPUPercentBetween two samples.
	CPUTotalNs uint64 // CPU time used by the container
	SystemNs   uint64 // CPU time of the host
	OnlineCPUs int
}

// CPUPercentBetween is the container's CPU use between two samples, in
// percent of one CPU; zero when the samples are not in order.
func CPUPercentBetween(prev, cur Stats) float64 {
	if cur.CPUTotalNs <= prev.CPUTotalNs || cur.SystemNs <= prev.SystemNs || prev.SystemNs == 0 {
		return 0
	}
	cpu := float64(cur.CPUTotalNs - prev.CPUTotalNs)
	sys := float64(cur.SystemNs - prev.SystemNs)
	return cpu / sys * float64(cur.OnlineCPUs) * 100
}

// LogOptions selects a container's log lines.
type LogOptions struct {
	Tail       int // the last lines only; zero or less means all
	Follow     bool
	Timestamps bool // prefix each line with its RFC 3339 time
	Since      time.Time
}

// HostInfo describes the engine's machine.
type HostInfo struct {
	MemBytes          int64
	CPUs              int
	ServerVersion     string
	APIVersion        string
	CgroupVersion     string
	ContainersRunning int
	ContainersPaused  int
	ContainersStopped int
}
