package docker

import (
	"context"
	"fmt"
	"math"
	"path"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"

	"appfactory/orchestrator/runtime"
)

// Defaults applied by CreateContainer when a spec leaves a limit at zero, so
// no tenant container ever runs unbounded.
const (
	// DefaultMemoryBytes is the memory limit (and memory plus swap) of a spec without one.
	DefaultMemoryBytes int64 = 256 << 20
	// DefaultCPUs is the CPU limit of a spec without one.
	DefaultCPUs float64 = 1
	// DefaultPidsLimit is the process limit of a spec without one.
	DefaultPidsLimit int64 = 256
	// TmpfsOptions mounts /tmp, the one writable place outside volumes.
	TmpfsOptions = "rw,noexec,nosuid,nodev,size=16m"
	// minMemoryBytes is the engine's own floor for a memory limit.
	minMemoryBytes = 6 << 20
)

// CreateContainer creates a hardened container. A container of the same name
// that already exists is adopted as it is: its id is returned with adopted
// true, and comparing its labels (config hash) is up to the caller.
func (d *Docker) CreateContainer(ctx context.Context, spec ContainerSpec) (id string, adopted bool, err error) {
	cfg, host, netcfg, err := containerConfig(spec)
	if err != nil {
		return "", false, fmt.Errorf("create container %s: %w", spec.Name, err)
	}
	resp, err := d.cli.ContainerCreate(ctx, cfg, host, netcfg, nil, spec.Name)
	if err == nil {
		return resp.ID, false, nil
	}
	if !cerrdefs.IsConflict(err) {
		return "", false, wrap(err, "create container %s", spec.Name)
	}
	c, ierr := d.Inspect(ctx, spec.Name)
	if ierr != nil {
		return "", false, fmt.Errorf("adopt container %s: %w", spec.Name, ierr)
	}
	if c.Name != spec.Name {
		return "", false, fmt.Errorf("adopt container %s: engine answered container %s: %w", spec.Name, c.Name, runtime.ErrConflict)
	}
	return c.ID, true, nil
}

// containerConfig turns a spec into the engine's three create structures,
// with the hardening every tenant container gets.
func containerConfig(spec ContainerSpec) (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	if spec.Name == "" || spec.Image == "" {
		return nil, nil, nil, fmt.Errorf("name and image are required")
	}
	mem, cpus, pids, err := LimitsOf(spec)
	if err != nil {
		return nil, nil, nil, err
	}
	networkMode, err := networkModeOf(spec)
	if err != nil {
		return nil, nil, nil, err
	}
	mounts, err := MountsOf(spec)
	if err != nil {
		return nil, nil, nil, err
	}

	cfg := &container.Config{
		Image:      spec.Image,
		Cmd:        spec.Cmd,
		Entrypoint: spec.Entrypoint,
		Env:        spec.Env,
		Labels:     spec.Labels,
		User:       spec.User,
	}
	if spec.StopTimeout > 0 {
		secs := int(math.Ceil(spec.StopTimeout.Seconds()))
		cfg.StopTimeout = &secs
	}
	if h := spec.Healthcheck; h != nil {
		cfg.Healthcheck = &container.HealthConfig{
			Test:        h.Test,
			Interval:    h.Interval,
			Timeout:     h.Timeout,
			StartPeriod: h.StartPeriod,
			Retries:     h.Retries,
		}
	}
	host := &container.HostConfig{
		NetworkMode: container.NetworkMode(networkMode),
		// Private namespaces stated explicitly, so a daemon default cannot share the host's.
		IpcMode:        "private",
		PidMode:        "",
		UTSMode:        "",
		Privileged:     false,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": TmpfsOptions},
		// No IPv6 in a tenant's network namespace: with it, eth0 gets a
		// link-local address and reaches whatever the host listens on at
		// [::] through the bridge's own link-local address, past the host
		// wall (hostwall), which is IPv4. Engine 20.10 disables it on
		// IPv4-only networks by itself (measured); later engines changed
		// how (26.0 gives lo its ::1 again), so it is stated here.
		Sysctls: TenantSysctls(),
		Mounts:  mounts,
		LogConfig: container.LogConfig{
			Type:   "json-file",
			Config: map[string]string{"max-size": "1m", "max-file": "3"},
		},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		Resources: container.Resources{
			Memory:     mem,
			MemorySwap: mem, // equal to Memory: no swap on top of the limit
			NanoCPUs:   int64(math.Round(cpus * 1e9)),
			PidsLimit:  &pids,
		},
	}
	var netcfg *network.NetworkingConfig
	if spec.Network != "" {
		netcfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			spec.Network: {Aliases: spec.Aliases},
		}}
	}
	return cfg, host, netcfg, nil
}

// LimitsOf is a spec's memory, CPU and process limits, the defaults where
// it leaves one at zero: no tenant container runs unbounded.
func LimitsOf(spec ContainerSpec) (mem int64, cpus float64, pids int64, err error) {
	mem, cpus, pids = spec.MemoryBytes, spec.CPUs, spec.PidsLimit
	if mem == 0 {
		mem = DefaultMemoryBytes
	}
	if cpus == 0 {
		cpus = DefaultCPUs
	}
	if pids == 0 {
		pids = DefaultPidsLimit
	}
	switch {
	case mem < minMemoryBytes:
		return 0, 0, 0, fmt.Errorf("memory %d bytes is below the engine's minimum of %d", mem, minMemoryBytes)
	case cpus < 0.01 || math.IsNaN(cpus) || math.IsInf(cpus, 0):
		return 0, 0, 0, fmt.Errorf("cpus %g is not a positive number", cpus)
	case pids < 1:
		return 0, 0, 0, fmt.Errorf("pids limit %d is not positive", pids)
	}
	return mem, cpus, pids, nil
}

// networkModeOf is the one user-defined network a container joins ("none"
// without one); the host's, the default bridge and another container's
// namespace are refused.
func networkModeOf(spec ContainerSpec) (string, error) {
	if spec.Network == "" {
		if len(spec.Aliases) > 0 {
			return "", fmt.Errorf("aliases need a network")
		}
		return "none", nil
	}
	switch n := spec.Network; {
	case n == "host" || n == "none" || n == "bridge" || n == "default" || strings.Contains(n, ":"):
		return "", fmt.Errorf("network %q is not a tenant network", n)
	}
	return spec.Network, nil
}

// MountsOf mounts named volumes only, at absolute paths below /.
func MountsOf(spec ContainerSpec) ([]mount.Mount, error) {
	mounts := make([]mount.Mount, 0, len(spec.Volumes))
	for _, v := range spec.Volumes {
		if !validVolumeName(v.Name) {
			return nil, fmt.Errorf("volume %q is not a named volume", v.Name)
		}
		if !path.IsAbs(v.Target) || path.Clean(v.Target) == "/" {
			return nil, fmt.Errorf("volume %s: target %q is not an absolute path below /", v.Name, v.Target)
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: v.Name, Target: path.Clean(v.Target), ReadOnly: v.ReadOnly,
			VolumeOptions: &mount.VolumeOptions{Labels: ownerLabels(spec.Labels)}})
	}
	return mounts, nil
}

// TenantSysctls are the kernel settings of every tenant container.
func TenantSysctls() map[string]string {
	return map[string]string{
		"net.ipv6.conf.all.disable_ipv6":     "1",
		"net.ipv6.conf.default.disable_ipv6": "1",
	}
}

// ownerLabels are the labels of a container that say whose it is. A volume
// the engine creates for a mount (when it was removed, or not yet made, as
// the container is created) gets them, so the orphan sweep still finds it.
func ownerLabels(labels map[string]string) map[string]string {
	out := make(map[string]string)
	for _, k := range []string{"appfactory.tenant", "appfactory.instance", "com.docker.compose.project"} {
		if v, ok := labels[k]; ok {
			out[k] = v
		}
	}
	for k, v := range labels {
		if strings.HasPrefix(k, "appfactory.test") {
			out[k] = v
		}
	}
	return out
}
