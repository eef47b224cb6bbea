package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strconv"
	"strings"
)

// Labels of the Docker objects of tenants (DESIGN.md, "Docker objects").
// The Compose labels make `docker compose -p af-<slug> ps` list a tenant's
// stack.
const (
	LabelTenant         = "appfactory.tenant"
	LabelInstance       = "appfactory.instance"
	LabelService        = "appfactory.service"
	LabelGeneration     = "appfactory.generation"
	LabelConfigHash     = "appfactory.config-hash"
	LabelComposeProject = "com.docker.compose.project"
	LabelComposeService = "com.docker.compose.service"
	LabelComposeNumber  = "com.docker.compose.container-number"
	LabelComposeVolume  = "com.docker.compose.volume"
	LabelComposeNetwork = "com.docker.compose.network"
	LabelComposeOneoff  = "com.docker.compose.oneoff"
)

// ProjectName is a tenant's Compose project: af-<slug>. Where two instances
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

// LabelSwarmTask is the label the engine puts on a swarm task's
// container: "<swarm service>.<slot>.<task id>".
const LabelSwarmTask = "com.docker.swarm.task.name"

// ReplicaName is "web-2" for a container's labels; a swarm task's
// container is numbered by its slot.
func ReplicaName(labels map[string]string) string {
	svc, n := labels[LabelComposeService], labels[LabelComposeNumber]
	if svc == "" {
		svc = labels[LabelService]
	}
	if n == "" {
		n = swarmSlot(labels[LabelSwarmTask])
	}
	if svc == "" || n == "" {
		return ""
	}
	return svc + "-" + n
}

// withLabels returns a copy of base with extra added.
func withLabels(base, extra map[string]string) map[string]string {
	m := make(map[string]string, len(base)+len(extra))
	maps.Copy(m, base)
	maps.Copy(m, extra)
	return m
}

// ConfigHash is a short hash of everything in a container spec but the
// hash label itself: two specs with the same hash make the same container.
func ConfigHash(spec ContainerSpec) string {
	labels := maps.Clone(spec.Labels)
	delete(labels, LabelConfigHash)
	spec.Labels = labels
	b, _ := json.Marshal(spec) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// swarmSlot is the slot of a swarm task's name, empty when it has none.
func swarmSlot(task string) string {
	i := strings.LastIndexByte(task, '.')
	if i < 0 {
		return ""
	}
	rest := task[:i]
	j := strings.LastIndexByte(rest, '.')
	if j < 0 {
		return ""
	}
	if _, err := strconv.Atoi(rest[j+1:]); err != nil {
		return ""
	}
	return rest[j+1:]
}
