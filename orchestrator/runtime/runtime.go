// Package runtime is the contract between appfactory's orchestrator and a
// container engine, drawn at the level of a tenant: the stack a tenant
// should be (Apply), what it is (Observe), the cheap transitions (Resume,
// Remove), the images the factory builds, and the events, samples and logs
// the monitor reads. How a stack becomes engine objects (names, networks
// and their subnets, start order, adoption of what already exists) is the
// adapter's business. It imports no package of appfactory, so an adapter
// (orchestrator/docker, a Swarm one) depends on it alone and the
// orchestrator never sees an engine's client.
package runtime

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Capabilities say what a runtime can do beyond the common ground, so the
// orchestrator leaves out what an engine cannot do rather than fail at it
// on every idle tenant.
type Capabilities struct {
	// Pause is whether a tenant can be frozen and resumed (the pause tier
	// of passivation, ModePaused); without it idle tenants are only stopped.
	Pause bool
	// StopRemovesReplicas says that ModeStopped leaves no replicas (a
	// service scaled to zero) rather than stopped ones: the next Apply in
	// ModeRunning creates them again, and a stopped tenant observes none.
	StopRemovesReplicas bool
}

// Runtime is what the reconciler, the router's activation and the
// passivator need of the engine. orchestrator/docker implements it; a fake
// of it (orchestrator/internal/fakeruntime) drives the unit tests, and both
// pass the contract tests of orchestrator/internal/runtimetest.
type Runtime interface {
	Images
	Snapshots
	// Apply makes the tenant's objects match st, in st.Mode, and returns
	// what it left. It is idempotent: what exists and matches is kept (a
	// replica whose generation or configuration differs is replaced), so a
	// call cut short is finished by the next. rep hears of every change;
	// it may be nil.
	Apply(ctx context.Context, st *Stack, rep Reporter) (Observation, error)
	// Observe reports a tenant's objects; a tenant with none observes empty.
	Observe(ctx context.Context, tenant string) (Observation, error)
	// Resume thaws a paused tenant by the shortest path (all replicas at
	// once, no order). Replicas that are not paused are left alone.
	Resume(ctx context.Context, tenant string) error
	// Remove removes every object of a tenant, its data included.
	Remove(ctx context.Context, tenant string, rep Reporter) error
	// Tenants observes every tenant that has objects of this appfactory
	// instance, for the periodic comparison and the orphan sweep.
	Tenants(ctx context.Context) ([]Observation, error)
	Capabilities() Capabilities
}

// Images are the factory's part of the runtime: images are looked up,
// built from a tar context and removed by reference.
type Images interface {
	ImageID(ctx context.Context, ref string) (id string, ok bool, err error)
	BuildImage(ctx context.Context, buildContext io.Reader, tags []string, labels map[string]string, out func(line string)) (string, error)
	RemoveImage(ctx context.Context, ref string) error
}

// Reporter hears of the changes an Apply or Remove makes, in order.
type Reporter interface {
	// Begin is called once, before the first change; creating says that
	// objects are created, replaced or removed (not only started or
	// stopped). An error stops the call before it changes anything.
	Begin(ctx context.Context, creating bool) error
	// Changed reports one change made.
	Changed(ctx context.Context, c Change)
	// Point marks a named point of the work ("after-network",
	// "after-container:web-1", "before-remove-volume"): crash tests stop
	// there.
	Point(name string)
}

// Change is one change a runtime made to a tenant's objects.
type Change struct {
	Action string // created, removed, started, resumed, stopped or paused
	Object string // container, network or volume
	Name   string // the engine's name of the object
	// Replica is "<service>-<n>" for a replica's change.
	Replica string
	// Detail says why (a removal) or with what (a network's subnet).
	Detail string
	// Exited is set on the start of a replica that had exited (stopped,
	// or died by itself); ExitCode is its exit code.
	Exited   bool
	ExitCode int
	// Released is an image no object uses since this change (a replica of
	// another generation removed), for the image clean-up.
	Released string
}

// Message is the change in words, for the tenant's events; died says
// that an exited replica had died rather than been stopped (the tenant
// should have been running), which only the caller knows.
func (c Change) Message(died bool) string {
	if died && c.Exited && c.Action == "started" {
		return fmt.Sprintf("Restarted %s after it died (exit code %d)", c.Replica, c.ExitCode)
	}
	msg := strings.ToUpper(c.Action[:1]) + c.Action[1:] + " " + c.Object + " " + c.Name
	if c.Detail != "" {
		msg += " (" + c.Detail + ")"
	}
	return msg
}

// Mode is what a tenant's replicas should be doing.
type Mode string

// The modes of Stack.Mode.
const (
	ModeRunning Mode = "running"
	// ModePaused freezes the replicas; only where Capabilities.Pause.
	ModePaused Mode = "paused"
	// ModeStopped keeps the replicas created and stopped (passivated): the
	// next Apply in ModeRunning only starts them.
	ModeStopped Mode = "stopped"
)

// Stack is one generation of a tenant: its services in dependency order,
// each with its replica count, and its named volumes.
type Stack struct {
	Tenant     string // the tenant's id
	Slug       string // its host label, for the adapter's names
	Generation int64
	Mode       Mode
	// Volumes are the named volumes the services mount.
	Volumes  []string
	Services []Service
	// Labels are added to every object (tests mark theirs).
	Labels map[string]string
	// Pool is the tenant's environment (trial, demo, production): a
	// runtime that places replicas on several nodes may keep each pool on
	// nodes of its own.
	Pool string
}

// Service is one service of a stack. Everything not here (capabilities,
// privileges, a read-only root, log rotation, restart policy, no published
// ports, no host namespaces) is fixed by the adapter's hardening.
type Service struct {
	Name     string
	Replicas int
	// WaitHealthy is set when a later service depends on this one being
	// healthy: its replicas must report healthy before later ones start.
	WaitHealthy bool
	Image       string
	Cmd         []string
	Entrypoint  []string
	Env         []string
	Labels      map[string]string
	// Volumes mount the stack's named volumes (VolumeMount.Name is one of
	// Stack.Volumes).
	Volumes     []VolumeMount
	MemoryBytes int64
	CPUs        float64
	PidsLimit   int64
	// User is "uid[:gid]" or a name known to the image; empty keeps the image's.
	User        string
	Healthcheck *Healthcheck
	// StopTimeout is the grace between SIGTERM and SIGKILL.
	StopTimeout time.Duration
	// Ports are the ports of the service the orchestrator dials (the
	// routed port).
	Ports []int
}

// VolumeMount mounts a named volume at Target.
type VolumeMount struct {
	Name     string
	Target   string
	ReadOnly bool
}

// Healthcheck is the engine-run health probe of a replica.
type Healthcheck struct {
	// Test is as in Compose: ["CMD", args...], ["CMD-SHELL", cmd] or ["NONE"].
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// Observation is a tenant's objects as the runtime finds them.
type Observation struct {
	Tenant string
	// Network is whether the tenant's network exists.
	Network bool
	// Volumes are the named volumes that exist (Stack.Volumes names).
	Volumes []string
	// Replicas in service order as far as the runtime knows it, then by number.
	Replicas []Replica
}

// Empty reports a tenant without objects.
func (o Observation) Empty() bool {
	return !o.Network && len(o.Volumes) == 0 && len(o.Replicas) == 0
}

// Service returns the replicas of one service.
func (o Observation) Service(name string) []Replica {
	var out []Replica
	for _, r := range o.Replicas {
		if r.Service == name {
			out = append(out, r)
		}
	}
	return out
}

// Replica is one instance of a service: a container, a task.
type Replica struct {
	// ID is the runtime's handle, for Stats and Logs.
	ID string
	// Name is "<service>-<n>", unique within its tenant.
	Name       string
	Service    string
	Number     int
	Generation int64
	Image      string
	// State is the engine's word: created, running, paused, restarting,
	// exited, dead.
	State   string
	Running bool
	Paused  bool
	// Health is healthy, unhealthy or starting; empty without a check.
	Health   string
	ExitCode int
	// Address is the replica's IP on its tenant network, empty while it
	// has none. Where the host has no route to that network, the runtime
	// is a Dialer.
	Address      string
	StartedAt    time.Time
	OOMKilled    bool
	RestartCount int
}

// Dial is the host:port at which the orchestrator reaches port of the
// replica; empty while it has no address.
func (r Replica) Dial(port int) string {
	if r.Address == "" {
		return ""
	}
	return net.JoinHostPort(r.Address, strconv.Itoa(port))
}

// A Dialer is a runtime whose replica addresses the host has no route to
// (a swarm's overlay networks): the router and the readiness probes dial
// replicas through it. Other addresses it dials as net.Dialer does.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}
