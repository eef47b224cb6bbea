package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// The Compose keys a stack template may use: an allowlist, so that a key the
// specification gains later is refused until appfactory supports it.
// "*" stands for a name (a service, a volume), "[]" for a list item.
// Branches are descended into; leaves accept any value, which checkProject
// then inspects once interpolated.
const (
	stackBranches = `services services.* services.*.deploy services.*.deploy.resources
services.*.deploy.resources.limits services.*.deploy.resources.reservations
services.*.healthcheck services.*.depends_on services.*.depends_on.*
services.*.volumes services.*.volumes.[] services.*.volumes.[].volume services.*.volumes.[].tmpfs
volumes volumes.*`
	stackLeaves = `services.*.image services.*.command services.*.entrypoint services.*.environment
services.*.working_dir services.*.user services.*.tmpfs services.*.labels services.*.read_only
services.*.stop_grace_period services.*.stop_signal services.*.restart services.*.init
services.*.expose services.*.cap_drop services.*.security_opt
services.*.deploy.replicas services.*.deploy.resources.limits.cpus
services.*.deploy.resources.limits.memory services.*.deploy.resources.limits.pids
services.*.deploy.resources.reservations.cpus services.*.deploy.resources.reservations.memory
services.*.healthcheck.test services.*.healthcheck.interval services.*.healthcheck.timeout
services.*.healthcheck.retries services.*.healthcheck.start_period services.*.healthcheck.disable
services.*.depends_on.*.condition services.*.depends_on.*.required services.*.depends_on.*.restart
services.*.volumes.[].type services.*.volumes.[].source services.*.volumes.[].target
services.*.volumes.[].read_only services.*.volumes.[].volume.nocopy
services.*.volumes.[].tmpfs.size services.*.volumes.[].tmpfs.mode volumes.*.labels`
)

// refusal explains why a key is refused; keys with no special reason are
// simply not supported.
func refusal(key string) string {
	switch key {
	case "privileged":
		return "refused: a privileged container can take over the host"
	case "network_mode", "net", "networks", "links", "external_links", "extra_hosts", "dns", "dns_search", "dns_opt", "mac_address":
		return "refused: a tenant's containers join only the tenant's own network, which appfactory creates"
	case "pid", "ipc", "uts", "userns_mode", "cgroup", "cgroup_parent", "volumes_from":
		return "refused: sharing namespaces, cgroups or volumes with other containers breaks isolation"
	case "cap_add":
		return "refused: containers run with every capability dropped"
	case "devices", "device_cgroup_rules", "gpus":
		return "refused: host devices are not available to tenants"
	case "ports":
		return "refused: no port is published, the router dials containers on the tenant network (see x-appfactory.route)"
	case "build", "dockerfile":
		return "refused: stacks run images; the factory bakes components into them"
	case "env_file", "label_file", "extends", "include", "secrets", "configs", "models":
		return "refused: a template may not read files or variables of the host"
	case "external":
		return "refused: an external volume or network belongs to no tenant"
	case "driver", "driver_opts":
		return "refused: volume drivers and their options can mount host paths"
	case "name", "container_name", "hostname", "domainname":
		return "refused: appfactory names projects, containers and volumes (af-<instance>-<slug>-...)"
	case "sysctls", "ulimits", "oom_kill_disable", "oom_score_adj", "runtime", "isolation", "storage_opt", "shm_size":
		return "refused: kernel and runtime settings are not for tenants"
	case "use_api_socket":
		return "refused: the Docker API is not for tenants"
	case "logging", "log_driver", "log_opt":
		return "refused: appfactory collects container logs itself"
	case "start_interval", "subpath":
		return "not supported: it needs a Docker API newer than 1.41, appfactory's floor"
	case "bind":
		return "refused: host bind mounts are not allowed"
	case "scale":
		return "not supported: use deploy.replicas"
	case "version":
		return "not supported: obsolete in the Compose specification, remove it"
	}
	return "not supported by appfactory stacks"
}

// maxVisits bounds the walk over a template: anchors and aliases can make a
// small file a huge tree.
const maxVisits = 100000

type keyWalker struct {
	name         string
	branch, leaf map[string]bool
	visits       int
}

// checkKeys refuses every key outside the allowlist, before the Compose
// loader reads anything.
func checkKeys(name string, root *yaml.Node) error {
	w := &keyWalker{name: name, branch: map[string]bool{}, leaf: map[string]bool{}}
	for _, p := range strings.Fields(stackBranches) {
		w.branch[p] = true
	}
	for _, p := range strings.Fields(stackLeaves) {
		w.leaf[p] = true
	}
	return w.node(root, "", nil)
}

func (w *keyWalker) node(n *yaml.Node, pat string, at []string) error {
	n = deref(n)
	if w.visits++; w.visits > maxVisits {
		return &StackError{Name: w.name, Message: "the template is too complex (too many nodes once aliases are expanded)"}
	}
	switch {
	case n == nil:
	case n.Kind == yaml.MappingNode:
		return w.mapping(n, pat, at)
	case n.Kind == yaml.SequenceNode && w.branch[pat+".[]"]:
		for i, item := range n.Content {
			next := append(append([]string(nil), at...), fmt.Sprintf("[%d]", i))
			if err := w.node(item, pat+".[]", next); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *keyWalker) mapping(n *yaml.Node, pat string, at []string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			// "<<: *base" merges the keys of base (or of a list of bases) here.
			m := deref(v)
			bases := []*yaml.Node{m}
			if m != nil && m.Kind == yaml.SequenceNode {
				bases = m.Content
			}
			for _, b := range bases {
				if b = deref(b); b != nil && b.Kind == yaml.MappingNode {
					if err := w.mapping(b, pat, at); err != nil {
						return err
					}
				}
			}
			continue
		}
		key := k.Value
		if strings.HasPrefix(key, "x-") {
			continue // extensions: Compose ignores them; x-appfactory is read after loading
		}
		next := strings.TrimPrefix(pat+"."+key, ".")
		if !w.branch[next] && !w.leaf[next] && pat != "" {
			next = pat + ".*"
		}
		path := append(append([]string(nil), at...), key)
		switch {
		case w.leaf[next]:
		case w.branch[next]:
			if err := w.node(v, next, path); err != nil {
				return err
			}
		default:
			return w.refuse(k.Line, path)
		}
	}
	return nil
}

// refuse names the service and key of a refused key path.
func (w *keyWalker) refuse(line int, path []string) error {
	e := &StackError{Name: w.name, Line: line, Message: refusal(path[len(path)-1])}
	if len(path) > 2 && path[0] == "services" {
		e.Service, path = path[1], path[2:]
	}
	e.Key = strings.ReplaceAll(strings.Join(path, "."), ".[", "[")
	return e
}

var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,29}$`)

// checkProject inspects the loaded, interpolated values: a value can open
// what a key alone does not (a short volume syntax naming a host path, a
// root user, a weakening security option).
func checkProject(name string, root *yaml.Node, p *types.Project) error {
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, sn := range names {
		if msg, key := checkService(p, p.Services[sn]); msg != "" {
			return &StackError{Name: name, Line: lineOf(root, "services", sn, key), Service: sn, Key: key, Message: msg}
		}
	}
	for vn, v := range p.Volumes {
		if msg := checkVolume(vn, v); msg != "" {
			return &StackError{Name: name, Line: lineOf(root, "volumes", vn), Key: "volumes." + vn, Message: msg}
		}
	}
	for nn, n := range p.Networks {
		if nn != "default" || n.External || n.Driver != "" {
			return &StackError{Name: name, Key: "networks." + nn, Message: refusal("networks")}
		}
	}
	if len(p.Secrets)+len(p.Configs)+len(p.Models)+len(p.Jobs) > 0 {
		return &StackError{Name: name, Message: refusal("secrets")}
	}
	if len(p.Services) == 0 {
		return &StackError{Name: name, Key: "services", Message: "want at least one service"}
	}
	return nil
}

// checkService returns why a service is refused and the key at fault.
func checkService(p *types.Project, s types.ServiceConfig) (msg, key string) {
	switch {
	case !serviceName.MatchString(s.Name):
		return "service names are 1 to 30 lowercase letters, digits and dashes", ""
	case s.Image == "":
		return "an image is required", "image"
	case s.Privileged:
		return refusal("privileged"), "privileged"
	case s.NetworkMode != "":
		return refusal("network_mode"), "network_mode"
	case s.UseAPISocket:
		return refusal("use_api_socket"), "use_api_socket"
	case s.Pid != "" || s.Ipc != "" || s.Uts != "" || s.UserNSMode != "":
		return refusal("pid"), "pid"
	case len(s.CapAdd) > 0:
		return refusal("cap_add"), "cap_add"
	case len(s.Devices) > 0:
		return refusal("devices"), "devices"
	case len(s.Ports) > 0:
		return refusal("ports"), "ports"
	case s.Build != nil:
		return refusal("build"), "build"
	case len(s.EnvFiles) > 0:
		return refusal("env_file"), "env_file"
	case len(s.ExtraHosts) > 0:
		return refusal("extra_hosts"), "extra_hosts"
	case len(s.VolumesFrom) > 0:
		return refusal("volumes_from"), "volumes_from"
	}
	if u := strings.SplitN(strings.TrimSpace(s.User), ":", 2)[0]; u == "root" || u == "0" {
		return "refused: containers may not be set to run as root", "user"
	}
	for _, o := range s.SecurityOpt {
		switch strings.ReplaceAll(strings.TrimSpace(o), "=", ":") {
		case "no-new-privileges", "no-new-privileges:true":
		default:
			return fmt.Sprintf("refused: %q weakens isolation (only no-new-privileges is allowed)", o), "security_opt"
		}
	}
	if l := reservedLabel(s.Labels); l != "" {
		return fmt.Sprintf("refused: label %q is reserved for appfactory", l), "labels"
	}
	if s.Deploy != nil && s.Deploy.Replicas != nil && (*s.Deploy.Replicas < 0 || *s.Deploy.Replicas > 100) {
		return "want from 0 to 100 replicas", "deploy"
	}
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeTmpfs:
		case types.VolumeTypeVolume:
			if v.Source == "" {
				return fmt.Sprintf("anonymous volume on %s: name it and declare it under the top-level volumes", v.Target), "volumes"
			}
			if _, ok := p.Volumes[v.Source]; !ok {
				return fmt.Sprintf("volume %q is not declared under the top-level volumes", v.Source), "volumes"
			}
		case types.VolumeTypeBind:
			return fmt.Sprintf("refused: host bind mount of %q: only named volumes and tmpfs are allowed", v.Source), "volumes"
		default:
			return fmt.Sprintf("refused: volume type %q: only named volumes and tmpfs are allowed", v.Type), "volumes"
		}
	}
	return "", ""
}

func checkVolume(name string, v types.VolumeConfig) string {
	switch {
	case !serviceName.MatchString(name):
		return "volume names are 1 to 30 lowercase letters, digits and dashes"
	case bool(v.External):
		return refusal("external")
	case (v.Driver != "" && v.Driver != "local") || len(v.DriverOpts) > 0:
		return refusal("driver_opts")
	}
	if l := reservedLabel(v.Labels); l != "" {
		return fmt.Sprintf("refused: label %q is reserved for appfactory", l)
	}
	return ""
}

// reservedLabel returns a label that would pass a container or volume off
// as another tenant's, or "".
func reservedLabel(labels types.Labels) string {
	for k := range labels {
		if strings.HasPrefix(k, "appfactory.") || strings.HasPrefix(k, "com.docker.") {
			return k
		}
	}
	return ""
}

// lineOf finds the line of a key path in the template, as near as it can.
func lineOf(root *yaml.Node, path ...string) int {
	line, n := 0, deref(root)
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode || key == "" {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, next = n.Content[i].Line, deref(n.Content[i+1])
				break
			}
		}
		n = next
	}
	return line
}
