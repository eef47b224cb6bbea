package swarm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/runtime"
)

// defaultStopGrace is a task's grace between SIGTERM and SIGKILL when its
// service sets none, as in orchestrator/docker.
const defaultStopGrace = 10 * time.Second

// wanted is one service of a stack as a swarm service.
type wanted struct {
	name        string // the stack's service name ("web")
	replicas    int    // in ModeRunning
	waitHealthy bool
	image       string // the reference
	spec        swarm.ServiceSpec
}

// tenantObjects are a stack's network, volumes and services.
type tenantObjects struct {
	network  string
	labels   map[string]string // on the network and the volumes
	volumes  []docker.VolumeSpec
	services []wanted
}

// expand names, labels and hardens a stack's objects for this instance.
// Images are named by id in the specs, so no engine of the swarm looks for
// them on a registry.
func (r *Runtime) expand(ctx context.Context, st *runtime.Stack) (*tenantObjects, error) {
	if st.Tenant == "" || st.Slug == "" {
		return nil, fmt.Errorf("swarm: a stack needs its tenant id and slug")
	}
	base := with(st.Labels, map[string]string{
		docker.LabelTenant:         st.Tenant,
		docker.LabelInstance:       r.instance(),
		docker.LabelComposeProject: docker.ProjectName(st.Slug),
	})
	o := &tenantObjects{network: docker.NetworkName(r.instance(), st.Slug), labels: base}
	for _, v := range st.Volumes {
		o.volumes = append(o.volumes, docker.VolumeSpec{
			Name:   docker.VolumeName(r.instance(), st.Slug, v),
			Labels: with(base, map[string]string{docker.LabelComposeVolume: v}),
		})
	}
	ids := map[string]string{}
	for _, s := range st.Services {
		if _, ok := ids[s.Image]; !ok {
			id, found, err := r.ImageID(ctx, s.Image)
			if err != nil {
				return nil, runtime.StepFailed(err, "Looking up image %s failed", s.Image)
			}
			if !found {
				return nil, runtime.StepFailed(fmt.Errorf("%w: image %s", runtime.ErrNotFound, s.Image), "Image %s is not on this node", s.Image)
			}
			ids[s.Image] = id
		}
		spec, err := r.serviceSpec(st, s, base, o.network, ids[s.Image])
		if err != nil {
			return nil, runtime.StepFailed(err, "Preparing service %s failed", s.Name)
		}
		o.services = append(o.services, wanted{name: s.Name, replicas: s.Replicas, waitHealthy: s.WaitHealthy, image: s.Image, spec: spec})
	}
	return o, nil
}

// serviceSpec is a stack service as a swarm service, with the hardening of
// orchestrator/docker's containers wherever swarm can express it: limits,
// no capabilities, no new privileges, a read-only root with a small /tmp,
// no IPv6, rotated logs, restarts, and no published port: the router
// reaches the tasks on their overlay network (Runtime.DialContext).
func (r *Runtime) serviceSpec(st *runtime.Stack, s runtime.Service, base map[string]string, network, imageID string) (swarm.ServiceSpec, error) {
	cs := docker.ContainerSpec{Name: s.Name, Image: s.Image, MemoryBytes: s.MemoryBytes, CPUs: s.CPUs, PidsLimit: s.PidsLimit}
	mem, cpus, pids, err := docker.LimitsOf(cs)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	labels := with(base, map[string]string{
		docker.LabelService:        s.Name,
		docker.LabelComposeService: s.Name,
		docker.LabelGeneration:     strconv.FormatInt(st.Generation, 10),
		LabelImage:                 s.Image,
	})
	containerLabels := maps.Clone(labels)
	for k, v := range s.Labels {
		if _, ours := containerLabels[k]; !ours {
			containerLabels[k] = v
		}
	}
	for _, v := range s.Volumes {
		cs.Volumes = append(cs.Volumes, runtime.VolumeMount{Name: docker.VolumeName(r.instance(), st.Slug, v.Name), Target: v.Target, ReadOnly: v.ReadOnly})
	}
	cs.Labels = containerLabels
	mounts, err := docker.MountsOf(cs)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	mounts = append(mounts, mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp",
		TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 16 << 20, Mode: 01777}})
	grace := s.StopTimeout
	if grace == 0 {
		grace = defaultStopGrace
	}
	cspec := &swarm.ContainerSpec{
		Image:           imageID,
		Labels:          containerLabels,
		Command:         s.Entrypoint,
		Args:            s.Cmd,
		Env:             s.Env,
		User:            s.User,
		ReadOnly:        true,
		Mounts:          mounts,
		StopGracePeriod: &grace,
		Sysctls:         docker.TenantSysctls(),
		CapabilityDrop:  []string{"ALL"},
		Privileges:      &swarm.Privileges{NoNewPrivileges: true},
	}
	if h := s.Healthcheck; h != nil {
		cspec.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	}
	delay := time.Second
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: ServiceName(r.instance(), st.Slug, s.Name), Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cspec,
			Resources: &swarm.ResourceRequirements{
				Limits:       &swarm.Limit{NanoCPUs: int64(math.Round(cpus * 1e9)), MemoryBytes: mem, Pids: pids},
				Reservations: &swarm.Resources{MemoryBytes: 0},
			},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: &delay},
			LogDriver:     &swarm.Driver{Name: "json-file", Options: map[string]string{"max-size": "1m", "max-file": "3"}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: network, Aliases: []string{s.Name}}},
		},
		// All replicas of a new generation at once, the old ones first:
		// as orchestrator/docker replaces a generation's containers.
		UpdateConfig: &swarm.UpdateConfig{Parallelism: 0, Order: swarm.UpdateOrderStopFirst, FailureAction: swarm.UpdateFailureActionContinue},
		// DNS round robin: a service's name resolves to its tasks'
		// addresses. A virtual IP needs the kernel's IPVS, which hosts
		// without the module (this project's CI among them) lack, and then
		// a service cannot reach another by name at all.
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	if r.opts.Pools && st.Pool != "" {
		spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.labels." + LabelPool + "==" + st.Pool}}
	}
	hash := configHash(spec)
	spec.Labels[docker.LabelConfigHash] = hash
	cspec.Labels[docker.LabelConfigHash] = hash
	return spec, nil
}

// configHash is a short hash of a spec but its replica count: two specs
// with the same hash make the same tasks.
func configHash(spec swarm.ServiceSpec) string {
	spec.Mode = swarm.ServiceMode{}
	b, _ := json.Marshal(spec) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// withReplicas is spec in replicated mode with n tasks.
func withReplicas(spec swarm.ServiceSpec, n int) swarm.ServiceSpec {
	u := uint64(n)
	spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &u}}
	return spec
}

// with returns a copy of base with extra added.
func with(base, extra map[string]string) map[string]string {
	m := make(map[string]string, len(base)+len(extra))
	maps.Copy(m, base)
	maps.Copy(m, extra)
	return m
}
