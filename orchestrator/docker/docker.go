// Package docker is the runtime adapter over the Docker Engine API: it
// implements orchestrator/runtime's contract. It and its swarm package
// (the same engine in swarm mode) are the only packages of appfactory
// that import the Docker client.
package docker

import (
	"context"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"

	"appfactory/orchestrator/runtime"
)

// MinAPIVersion is the oldest Engine API the adapter supports (Debian's docker.io 20.10).
const MinAPIVersion = "1.41"

// Docker is the runtime adapter over the Docker Engine API. Callers see only
// the spec and state types of orchestrator/runtime, never the Docker
// client's types.
type Docker struct {
	cli *client.Client
	api string
}

// New connects to the engine named by the environment (DOCKER_HOST, or
// the local socket), negotiates the API version and pings it, so a missing or
// too old engine is reported at start-up rather than at the first deploy.
func New(ctx context.Context) (*Docker, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	ping, err := cli.Ping(ctx)
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("ping docker engine at %s: %w", cli.DaemonHost(), err)
	}
	cli.NegotiateAPIVersionPing(ping)
	api := cli.ClientVersion()
	if versions.LessThan(api, MinAPIVersion) {
		_ = cli.Close()
		return nil, fmt.Errorf("docker engine API %s is older than %s", api, MinAPIVersion)
	}
	return &Docker{cli: cli, api: api}, nil
}

// Close releases the client's connections.
func (d *Docker) Close() error {
	return d.cli.Close()
}

// Ping checks that the engine answers.
func (d *Docker) Ping(ctx context.Context) error {
	if _, err := d.cli.Ping(ctx); err != nil {
		return fmt.Errorf("ping docker engine: %w", err)
	}
	return nil
}

// Client is the engine's client, for the swarm adapter, which drives the
// same engine's services.
func (d *Docker) Client() *client.Client { return d.cli }

// Wrap adds context to an engine error and makes it match runtime's
// sentinels, for the swarm adapter.
func Wrap(err error, format string, args ...any) error { return wrap(err, format, args...) }

// APIVersion is the negotiated Engine API version.
func (d *Docker) APIVersion() string { return d.api }

// Host reports the engine's memory, CPUs, versions and container counts.
func (d *Docker) Host(ctx context.Context) (runtime.HostInfo, error) {
	info, err := d.cli.Info(ctx)
	if err != nil {
		return runtime.HostInfo{}, fmt.Errorf("docker info: %w", err)
	}
	return runtime.HostInfo{
		MemBytes:          info.MemTotal,
		CPUs:              info.NCPU,
		ServerVersion:     info.ServerVersion,
		APIVersion:        d.api,
		CgroupVersion:     info.CgroupVersion,
		ContainersRunning: info.ContainersRunning,
		ContainersPaused:  info.ContainersPaused,
		ContainersStopped: info.ContainersStopped,
	}, nil
}

// wrap adds context to an engine error and makes it match runtime's
// sentinels, keeping the engine's own message.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	switch {
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w (%w)", msg, runtime.ErrNotFound, err)
	case cerrdefs.IsConflict(err):
		return fmt.Errorf("%s: %w (%w)", msg, runtime.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// IsSubnetOverlap is isSubnetOverlap, for the swarm adapter's overlay networks.
func IsSubnetOverlap(err error) bool { return isSubnetOverlap(err) }

// isSubnetOverlap tells the engine's refusal of an overlapping IPAM pool. The
// engine has no typed error for it (a 403 with this text), so this is the one
// place that reads the message.
func isSubnetOverlap(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Pool overlaps")
}

// labelFilters turns labels into engine filters: key=value, or the bare key
// when the value is empty (the label is present with any value).
func labelFilters(labels map[string]string) filters.Args {
	args := filters.NewArgs()
	for k, v := range labels {
		if v == "" {
			args.Add("label", k)
		} else {
			args.Add("label", k+"="+v)
		}
	}
	return args
}
