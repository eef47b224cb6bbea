// Package stack turns a tenant's loaded Compose project into its stack: the
// services, replicas, limits and volumes the runtime applies (names and
// labels are the runtime adapter's); it also holds the slug rules and the
// subnet pool tenant networks take their addresses from.
package stack

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"appfactory/orchestrator/runtime"
)

const (
	maxReplicasPerTenant = 10
)

// Limits are the resources of each container of a tenant, from its environment.
type Limits struct {
	MemoryBytes int64
	CPUs        float64
	PidsLimit   int64
}

// StackParams is what makes a tenant's stack its own.
type StackParams struct {
	TenantID   string
	Slug       string
	Generation int64
	Mode       runtime.Mode
	// Replicas is the number of containers of the routed service.
	Replicas int
	Limits   Limits
	// RouteService and RoutePort say which service and port the router dials.
	RouteService string
	RoutePort    int
	// Readiness is the routed service's readiness path, like "/healthz".
	Readiness string
	// Labels are added to every object (tests mark theirs).
	Labels map[string]string
	// Pool is the tenant's environment, for placement (runtime.Stack.Pool).
	Pool string
	// DumpService and Dump are the platform's dump hook (catalog.BackupHook), if any.
	DumpService string
	Dump        []string
}

// TenantStack is one generation of a tenant: the stack the runtime applies
// and the route the router dials.
type TenantStack struct {
	runtime.Stack
	// RouteService, RoutePort and Readiness come from the params.
	RouteService string
	RoutePort    int
	Readiness    string
	// DumpService and Dump come from the params: the command a backup runs
	// in a replica of the service instead of pausing the tenant.
	DumpService string
	Dump        []string
}

// NewTenantStack turns a loaded, interpolated Compose project into the
// tenant's stack: its services in dependency order with their replicas,
// limits and the hardening checks, and its named volumes. order is the
// services in dependency order; nil sorts them from depends_on.
func NewTenantStack(project *types.Project, order []string, p StackParams) (*TenantStack, error) {
	if p.TenantID == "" || p.Slug == "" {
		return nil, fmt.Errorf("stack: tenant id and slug are required")
	}
	if order == nil {
		var err error
		if order, err = serviceOrder(project); err != nil {
			return nil, err
		}
	}
	if _, ok := project.Services[p.RouteService]; !ok {
		return nil, fmt.Errorf("stack: the routed service %q is not in the stack", p.RouteService)
	}
	mode := p.Mode
	if mode == "" {
		mode = runtime.ModeRunning
	}
	st := &TenantStack{
		Stack: runtime.Stack{
			Tenant: p.TenantID, Slug: p.Slug, Generation: p.Generation, Mode: mode,
			Volumes: slices.Sorted(maps.Keys(project.Volumes)), Labels: maps.Clone(p.Labels), Pool: p.Pool,
		},
		RouteService: p.RouteService,
		RoutePort:    p.RoutePort,
		Readiness:    p.Readiness,
		DumpService:  p.DumpService,
		Dump:         slices.Clone(p.Dump),
	}
	healthy := map[string]bool{}
	for _, s := range project.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionHealthy {
				healthy[dep] = true
			}
		}
	}
	for _, name := range order {
		s, ok := project.Services[name]
		if !ok {
			return nil, fmt.Errorf("stack: service %q of the order is not in the stack", name)
		}
		svc, err := serviceSpec(s, p)
		if err != nil {
			return nil, fmt.Errorf("stack: service %s: %w", name, err)
		}
		svc.WaitHealthy = healthy[name]
		st.Services = append(st.Services, svc)
	}
	return st, nil
}

// serviceSpec checks a Compose service against what tenants may do and
// makes it the runtime's service.
func serviceSpec(s types.ServiceConfig, p StackParams) (runtime.Service, error) {
	if s.Image == "" {
		return runtime.Service{}, fmt.Errorf("no image")
	}
	if s.Privileged || len(s.CapAdd) > 0 || s.NetworkMode != "" || s.Pid != "" || s.Ipc != "" || len(s.Devices) > 0 {
		return runtime.Service{}, fmt.Errorf("privileges, capabilities, devices or host namespaces are not allowed")
	}
	if len(s.Ports) > 0 {
		return runtime.Service{}, fmt.Errorf("published ports are not allowed: the router dials containers on the tenant network")
	}
	replicas := 1
	if s.Name == p.RouteService {
		replicas = p.Replicas
	} else if s.Deploy != nil && s.Deploy.Replicas != nil {
		replicas = *s.Deploy.Replicas
	} else if s.Scale != nil {
		replicas = *s.Scale
	}
	if replicas < 1 || replicas > maxReplicasPerTenant {
		return runtime.Service{}, fmt.Errorf("%d replicas, want 1 to %d", replicas, maxReplicasPerTenant)
	}
	spec := runtime.Service{
		Name:        s.Name,
		Replicas:    replicas,
		Image:       s.Image,
		Cmd:         []string(s.Command),
		Entrypoint:  []string(s.Entrypoint),
		MemoryBytes: p.Limits.MemoryBytes,
		CPUs:        p.Limits.CPUs,
		PidsLimit:   p.Limits.PidsLimit,
		User:        s.User,
		Labels:      maps.Clone(s.Labels),
	}
	if s.Name == p.RouteService {
		spec.Ports = []int{p.RoutePort}
	}
	if s.StopGracePeriod != nil {
		spec.StopTimeout = time.Duration(*s.StopGracePeriod)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		// A variable without a value would be taken from appfactory's own
		// environment by Compose; a tenant never gets that.
		if v := s.Environment[k]; v != nil {
			spec.Env = append(spec.Env, k+"="+*v)
		}
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeVolume || v.Source == "" {
			return runtime.Service{}, fmt.Errorf("volume %s: only named volumes are allowed", v.Target)
		}
		spec.Volumes = append(spec.Volumes, runtime.VolumeMount{Name: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	spec.Healthcheck = healthcheck(s.HealthCheck)
	return spec, nil
}

// healthcheck is a Compose health check for the runtime; nil when none.
func healthcheck(h *types.HealthCheckConfig) *runtime.Healthcheck {
	if h == nil || h.Disable || len(h.Test) == 0 {
		return nil
	}
	hc := &runtime.Healthcheck{Test: []string(h.Test)}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc
}

// serviceOrder sorts services so that each comes after what it depends on;
// ties go by name, so the order is stable.
func serviceOrder(project *types.Project) ([]string, error) {
	names := slices.Sorted(maps.Keys(project.Services))
	done := map[string]bool{}
	visiting := map[string]bool{}
	var out []string
	var visit func(string) error
	visit = func(n string) error {
		if done[n] {
			return nil
		}
		if visiting[n] {
			return fmt.Errorf("stack: services depend on each other in a cycle through %s", n)
		}
		visiting[n] = true
		s, ok := project.Services[n]
		if !ok {
			return fmt.Errorf("stack: unknown service %q in depends_on", n)
		}
		deps := slices.Sorted(maps.Keys(s.DependsOn))
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		visiting[n] = false
		done[n] = true
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}
