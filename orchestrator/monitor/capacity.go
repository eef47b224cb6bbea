package monitor

import (
	"context"
	"fmt"

	"appfactory/orchestrator/runtime"
)

// Capacity is the engine's host and the share of it that running tenants
// hold, by the limits of their environments (what the kernel will let
// them use, not what they use now).
type Capacity struct {
	HostMemBytes      int64   `json:"host_mem_bytes"`
	HostCPUs          int     `json:"host_cpus"`
	ReservedMemBytes  int64   `json:"reserved_mem_bytes"`
	ReservedCPUs      float64 `json:"reserved_cpus"`
	RunningTenants    int     `json:"running_tenants"`
	RunningContainers int     `json:"running_containers"`
	// PerTenantBytes is what one more tenant is expected to reserve: the
	// average of the running ones, or with none running the smallest
	// environment's limit for a stack of two containers.
	PerTenantBytes int64 `json:"per_tenant_bytes"`
	// MoreTenants is how many more such tenants the free memory holds.
	MoreTenants int `json:"more_tenants"`
}

// EnvLimits gives an environment's memory and CPU limit per container.
type EnvLimits func(env string) (memBytes int64, cpus float64, ok bool)

// capacitySource is the part of the runtime capacity needs.
type capacitySource interface {
	Host(ctx context.Context) (runtime.HostInfo, error)
	Tenants(ctx context.Context) ([]runtime.Observation, error)
}

// tenantEnvironments maps running tenants to their environments.
type tenantEnvironments interface {
	RunningTenantEnvironments(ctx context.Context) (map[string]string, error)
}

// CapacityProbe measures Capacity from the engine and the database.
type CapacityProbe struct {
	Runtime capacitySource
	Tenants tenantEnvironments
	Limits  EnvLimits
	// Smallest is the memory limit of the smallest environment, for the
	// estimate when nothing runs.
	Smallest int64
}

// Capacity asks the engine for its host and running containers, and adds
// up the limits of the running tenants' containers.
func (p *CapacityProbe) Capacity(ctx context.Context) (Capacity, error) {
	host, err := p.Runtime.Host(ctx)
	if err != nil {
		return Capacity{}, err
	}
	list, err := p.Runtime.Tenants(ctx)
	if err != nil {
		return Capacity{}, fmt.Errorf("list running replicas: %w", err)
	}
	envs, err := p.Tenants.RunningTenantEnvironments(ctx)
	if err != nil {
		return Capacity{}, err
	}
	return ComputeCapacity(host, list, envs, p.Limits, p.Smallest), nil
}

// ComputeCapacity adds up the limits of running (and paused: they hold
// their memory) replicas, each by its tenant's environment.
func ComputeCapacity(host runtime.HostInfo, obs []runtime.Observation, envOf map[string]string, limits EnvLimits, smallest int64) Capacity {
	c := Capacity{HostMemBytes: host.MemBytes, HostCPUs: host.CPUs}
	tenants := map[string]bool{}
	for _, o := range obs {
		for _, rp := range o.Replicas {
			if o.Tenant == "" || !(rp.Running || rp.Paused) {
				continue
			}
			c.RunningContainers++
			tenants[o.Tenant] = true
			if limits == nil {
				continue
			}
			if mem, cpus, ok := limits(envOf[o.Tenant]); ok {
				c.ReservedMemBytes += mem
				c.ReservedCPUs += cpus
			}
		}
	}
	c.RunningTenants = len(tenants)
	if c.RunningTenants > 0 && c.ReservedMemBytes > 0 {
		c.PerTenantBytes = c.ReservedMemBytes / int64(c.RunningTenants)
	} else {
		c.PerTenantBytes = 2 * smallest
	}
	if free := c.HostMemBytes - c.ReservedMemBytes; free > 0 && c.PerTenantBytes > 0 {
		c.MoreTenants = int(free / c.PerTenantBytes)
	}
	return c
}
