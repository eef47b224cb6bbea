package docker

import (
	"fmt"
	"strconv"
	"time"

	"appfactory/orchestrator/runtime"
)

// defaultStopGrace is a replica's grace between SIGTERM and SIGKILL when
// its service sets none.
const defaultStopGrace = 10 * time.Second

// objects are the engine objects of one generation of a tenant: its
// network, volumes and containers, named and labelled.
type objects struct {
	network  NetworkSpec
	volumes  []VolumeSpec
	services []serviceObjects // in dependency order
}

type serviceObjects struct {
	name        string
	waitHealthy bool
	containers  []ContainerSpec // replicas 1..n
}

// all lists the containers in dependency order.
func (o *objects) all() []ContainerSpec {
	var out []ContainerSpec
	for _, s := range o.services {
		out = append(out, s.containers...)
	}
	return out
}

// expand names and labels a stack's objects for this instance.
func (r *Runtime) expand(st *runtime.Stack) (*objects, error) {
	if st.Tenant == "" || st.Slug == "" {
		return nil, fmt.Errorf("docker: a stack needs its tenant id and slug")
	}
	base := withLabels(st.Labels, map[string]string{
		LabelTenant:         st.Tenant,
		LabelInstance:       r.opts.Instance,
		LabelComposeProject: ProjectName(st.Slug),
	})
	o := &objects{network: NetworkSpec{
		Name:     NetworkName(r.opts.Instance, st.Slug),
		Internal: true,
		Labels:   withLabels(base, map[string]string{LabelComposeNetwork: "default"}),
	}}
	for _, v := range st.Volumes {
		o.volumes = append(o.volumes, VolumeSpec{
			Name:   VolumeName(r.opts.Instance, st.Slug, v),
			Labels: withLabels(base, map[string]string{LabelComposeVolume: v}),
		})
	}
	for _, s := range st.Services {
		so := serviceObjects{name: s.Name, waitHealthy: s.WaitHealthy}
		for n := 1; n <= s.Replicas; n++ {
			so.containers = append(so.containers, r.containerSpec(st, s, n, base, o.network.Name))
		}
		o.services = append(o.services, so)
	}
	return o, nil
}

// containerSpec makes replica n of a service, labelled with a hash of its
// whole configuration so that a changed template or image replaces it.
func (r *Runtime) containerSpec(st *runtime.Stack, s runtime.Service, n int, base map[string]string, network string) ContainerSpec {
	spec := ContainerSpec{
		Name:        ContainerName(r.opts.Instance, st.Slug, s.Name, n),
		Image:       s.Image,
		Cmd:         s.Cmd,
		Entrypoint:  s.Entrypoint,
		Env:         s.Env,
		Network:     network,
		Aliases:     []string{s.Name},
		MemoryBytes: s.MemoryBytes,
		CPUs:        s.CPUs,
		PidsLimit:   s.PidsLimit,
		User:        s.User,
		Healthcheck: s.Healthcheck,
		StopTimeout: s.StopTimeout,
	}
	if spec.StopTimeout == 0 {
		spec.StopTimeout = defaultStopGrace
	}
	for _, v := range s.Volumes {
		spec.Volumes = append(spec.Volumes, runtime.VolumeMount{Name: VolumeName(r.opts.Instance, st.Slug, v.Name), Target: v.Target, ReadOnly: v.ReadOnly})
	}
	labels := withLabels(base, map[string]string{
		LabelService:        s.Name,
		LabelComposeService: s.Name,
		LabelComposeNumber:  strconv.Itoa(n),
		LabelComposeOneoff:  "False",
		LabelGeneration:     strconv.FormatInt(st.Generation, 10),
	})
	for k, v := range s.Labels {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	spec.Labels = labels
	spec.Labels[LabelConfigHash] = ConfigHash(spec)
	return spec
}
