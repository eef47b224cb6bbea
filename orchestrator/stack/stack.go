// Package stack turns a tenant's loaded Compose project into its stack: the
// Docker objects it should have, with deterministic names and ownership
// labels; it also holds the slug rules and the subnet pool tenant networks
// take their addresses from.
package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"appfactory/orchestrator/runtime"
)

// Labels of the Docker objects of tenants (DESIGN.md, "Docker objects").
const (
	LabelTenant          = "appfactory.tenant"
	LabelInstance        = "appfactory.instance"
	LabelService         = "appfactory.service"
	LabelGeneration      = "appfactory.generation"
	LabelConfigHash      = "appfactory.config-hash"
	LabelComposeProject  = "com.docker.compose.project"
	LabelComposeService  = "com.docker.compose.service"
	LabelComposeNumber   = "com.docker.compose.container-number"
	LabelComposeVolume   = "com.docker.compose.volume"
	LabelComposeNetwork  = "com.docker.compose.network"
	LabelComposeOneoff   = "com.docker.compose.oneoff"
	defaultStopGrace     = 10 * time.Second
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
	InstanceID string
	Generation int64
	// Replicas is the number of containers of the routed service.
	Replicas int
	Subnet   string
	Limits   Limits
	// RouteService and RoutePort say which service and port the router dials.
	RouteService string
	RoutePort    int
	// Readiness is the routed service's readiness path, like "/healthz".
	Readiness string
	// Labels are added to every object (tests mark theirs).
	Labels map[string]string
}

// TenantStack is the desired Docker objects of one tenant generation.
type TenantStack struct {
	Project  string
	Network  runtime.NetworkSpec
	Volumes  []runtime.VolumeSpec
	Services []ServiceSpec // in dependency order
	// RouteService, RoutePort and Readiness come from the params.
	RouteService string
	RoutePort    int
	Readiness    string
}

// ServiceSpec is one service's containers.
type ServiceSpec struct {
	Name       string
	Containers []runtime.ContainerSpec // replicas 1..n
	// WaitHealthy is set when a later service depends on this one being
	// healthy: its containers must report healthy before going on.
	WaitHealthy bool
	Routed      bool
}

// ProjectName is the Compose project of a tenant: af-<slug>, so that
// `docker compose -p af-<slug> ps` lists its stack. Where two instances
// share an engine and a slug, the appfactory.instance label tells their
// objects apart; the names below never collide.
func ProjectName(slug string) string { return "af-" + slug }

// NamePrefix starts the name of every Docker object of a tenant:
// af-<instance>-<slug>. The instance id keeps two appfactory instances on
// one engine (staging beside production, a blue/green upgrade, parallel
// test packages) from claiming each other's names for the same slug; it is
// the whole id, the same as the appfactory.instance label, so a name is
// never ambiguous and never needs a collision check.
func NamePrefix(instance, slug string) string { return "af-" + instance + "-" + slug }

// NetworkName is a tenant's network: af-<instance>-<slug>.
func NetworkName(instance, slug string) string { return NamePrefix(instance, slug) }

// VolumeName is a tenant's named volume: af-<instance>-<slug>-<name>.
func VolumeName(instance, slug, name string) string { return NamePrefix(instance, slug) + "-" + name }

// ContainerName is a tenant container: af-<instance>-<slug>-<service>-<n>.
func ContainerName(instance, slug, service string, n int) string {
	return NamePrefix(instance, slug) + "-" + service + "-" + strconv.Itoa(n)
}

// tenantLabels are the ownership labels every object of a tenant carries.
func tenantLabels(p StackParams) map[string]string {
	l := map[string]string{
		LabelTenant:         p.TenantID,
		LabelInstance:       p.InstanceID,
		LabelComposeProject: ProjectName(p.Slug),
	}
	for k, v := range p.Labels {
		l[k] = v
	}
	return l
}

// NewTenantStack turns a loaded, interpolated Compose project into the
// tenant's network, volumes and hardened containers, with deterministic
// names and labels. order is the services in dependency order; nil sorts
// them from depends_on.
func NewTenantStack(project *types.Project, order []string, p StackParams) (*TenantStack, error) {
	if p.TenantID == "" || p.Slug == "" || p.InstanceID == "" {
		return nil, fmt.Errorf("stack: tenant id, slug and instance id are required")
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
	base := tenantLabels(p)
	st := &TenantStack{
		Project:      ProjectName(p.Slug),
		RouteService: p.RouteService,
		RoutePort:    p.RoutePort,
		Readiness:    p.Readiness,
		Network: runtime.NetworkSpec{
			Name:     NetworkName(p.InstanceID, p.Slug),
			Subnet:   p.Subnet,
			Internal: true,
			Labels:   WithLabels(base, map[string]string{LabelComposeNetwork: "default"}),
		},
	}
	for _, name := range slices.Sorted(maps.Keys(project.Volumes)) {
		st.Volumes = append(st.Volumes, runtime.VolumeSpec{
			Name:   VolumeName(p.InstanceID, p.Slug, name),
			Labels: WithLabels(base, map[string]string{LabelComposeVolume: name}),
		})
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
		svc := ServiceSpec{Name: name, WaitHealthy: healthy[name], Routed: name == p.RouteService}
		replicas := 1
		if svc.Routed {
			replicas = p.Replicas
		} else if s.Deploy != nil && s.Deploy.Replicas != nil {
			replicas = *s.Deploy.Replicas
		} else if s.Scale != nil {
			replicas = *s.Scale
		}
		if replicas < 1 || replicas > maxReplicasPerTenant {
			return nil, fmt.Errorf("stack: service %s: %d replicas, want 1 to %d", name, replicas, maxReplicasPerTenant)
		}
		for n := 1; n <= replicas; n++ {
			c, err := containerSpec(s, n, p, base, st.Network.Name)
			if err != nil {
				return nil, fmt.Errorf("stack: service %s: %w", name, err)
			}
			svc.Containers = append(svc.Containers, c)
		}
		st.Services = append(st.Services, svc)
	}
	return st, nil
}

// containerSpec makes replica n of a service, labelled with a hash of its
// whole configuration so that a changed template or image replaces it.
func containerSpec(s types.ServiceConfig, n int, p StackParams, base map[string]string, network string) (runtime.ContainerSpec, error) {
	if s.Image == "" {
		return runtime.ContainerSpec{}, fmt.Errorf("no image")
	}
	if s.Privileged || len(s.CapAdd) > 0 || s.NetworkMode != "" || s.Pid != "" || s.Ipc != "" || len(s.Devices) > 0 {
		return runtime.ContainerSpec{}, fmt.Errorf("privileges, capabilities, devices or host namespaces are not allowed")
	}
	if len(s.Ports) > 0 {
		return runtime.ContainerSpec{}, fmt.Errorf("published ports are not allowed: the router dials containers on the tenant network")
	}
	spec := runtime.ContainerSpec{
		Name:        ContainerName(p.InstanceID, p.Slug, s.Name, n),
		Image:       s.Image,
		Cmd:         []string(s.Command),
		Entrypoint:  []string(s.Entrypoint),
		Network:     network,
		Aliases:     []string{s.Name},
		MemoryBytes: p.Limits.MemoryBytes,
		CPUs:        p.Limits.CPUs,
		PidsLimit:   p.Limits.PidsLimit,
		User:        s.User,
		StopTimeout: defaultStopGrace,
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
			return runtime.ContainerSpec{}, fmt.Errorf("volume %s: only named volumes are allowed", v.Target)
		}
		spec.Volumes = append(spec.Volumes, runtime.VolumeMount{Name: VolumeName(p.InstanceID, p.Slug, v.Source), Target: v.Target, ReadOnly: v.ReadOnly})
	}
	if h := s.HealthCheck; h != nil && !h.Disable && len(h.Test) > 0 {
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
		spec.Healthcheck = hc
	}
	labels := WithLabels(base, map[string]string{
		LabelService:        s.Name,
		LabelComposeService: s.Name,
		LabelComposeNumber:  strconv.Itoa(n),
		LabelComposeOneoff:  "False",
		LabelGeneration:     strconv.FormatInt(p.Generation, 10),
	})
	for k, v := range s.Labels {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	spec.Labels = labels
	spec.Labels[LabelConfigHash] = ConfigHash(spec)
	return spec, nil
}

// ConfigHash is a short hash of everything in a container spec but the
// hash label itself: two specs with the same hash make the same container.
func ConfigHash(spec runtime.ContainerSpec) string {
	labels := maps.Clone(spec.Labels)
	delete(labels, LabelConfigHash)
	spec.Labels = labels
	b, _ := json.Marshal(spec) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
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

// WithLabels returns a copy of base with extra added.
func WithLabels(base, extra map[string]string) map[string]string {
	m := make(map[string]string, len(base)+len(extra))
	maps.Copy(m, base)
	maps.Copy(m, extra)
	return m
}

// AllContainers lists a stack's containers in dependency order.
func (st *TenantStack) AllContainers() []runtime.ContainerSpec {
	var out []runtime.ContainerSpec
	for _, s := range st.Services {
		out = append(out, s.Containers...)
	}
	return out
}

// SortedNames returns map keys sorted (for stable events and logs).
func SortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
