package catalog

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// maxStackSize bounds a stack template; real ones are a few hundred bytes.
const maxStackSize = 256 << 10

// Stack is a tenant's stack: the loaded Compose project and what appfactory
// reads from its x-appfactory extension.
type Stack struct {
	Project *types.Project
	Route   Route
	// Readiness is the HTTP path of the routed service that answers once
	// the stack can serve.
	Readiness string
	// Backup is the platform's dump hook, if the stack declares one.
	Backup *BackupHook

	order []string
}

// BackupHook is x-appfactory's backup: {service, dump}: before a backup,
// dump runs in a running replica of service and leaves a consistent copy
// of the data on a volume, so the volumes are copied without pausing the
// tenant.
type BackupHook struct {
	Service string   `json:"service"`
	Dump    []string `json:"dump"`
}

// Route names the service and container port that the router dials.
type Route struct {
	Service string `json:"service"`
	Port    int    `json:"port"`
}

// StackError is a problem in a stack template, naming the stack, the line in
// the template (0 when unknown), the service and the key at fault.
type StackError struct {
	Name    string
	Line    int
	Service string
	Key     string
	Message string
}

func (e *StackError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Service != "" {
		fmt.Fprintf(&b, ": service %q", e.Service)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// StackVariables returns the variables a stack template may use; the
// orchestrator provides every one of them for each tenant.
func StackVariables() []string {
	return []string{"APP_IMAGE", "TENANT", "SLUG", "PLATFORM", "VERSION", "ENVIRONMENT",
		"REPLICAS", "MEMORY", "CPUS", "PIDS_LIMIT", "PUBLIC_URL", "SECRET"}
}

// StackParams are a tenant's values for its stack template.
type StackParams struct {
	Tenant, Slug, Image    string
	Platform, Version, Env string
	Replicas               int
	MemoryBytes            int64
	CPUs                   float64
	PidsLimit              int64
	PublicURL              string // e.g. http://acme.localhost:8080
	Secret                 string // random per tenant, kept across restarts
}

// Vars returns the interpolation variables of StackVariables.
func (p StackParams) Vars() map[string]string {
	return map[string]string{
		"APP_IMAGE":   p.Image,
		"TENANT":      p.Tenant,
		"SLUG":        p.Slug,
		"PLATFORM":    p.Platform,
		"VERSION":     p.Version,
		"ENVIRONMENT": p.Env,
		"REPLICAS":    strconv.Itoa(p.Replicas),
		"MEMORY":      strconv.FormatInt(p.MemoryBytes, 10),
		"CPUS":        strconv.FormatFloat(p.CPUs, 'f', -1, 64),
		"PIDS_LIMIT":  strconv.FormatInt(p.PidsLimit, 10),
		"PUBLIC_URL":  p.PublicURL,
		"SECRET":      p.Secret,
	}
}

// SampleVars are stand-in values used to check a template when the catalog
// loads.
func SampleVars(platform, version, image string) map[string]string {
	return StackParams{
		Tenant: "00000000sample", Slug: "sample", Image: image, Platform: platform, Version: version,
		Env: "trial", Replicas: 1, MemoryBytes: 256 << 20, CPUs: 0.5, PidsLimit: 256,
		PublicURL: "http://sample.localhost:8080", Secret: "0123456789abcdef0123456789abcdef",
	}.Vars()
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// LoadStack interpolates a stack template with vars, refuses what would
// break a tenant's isolation, and loads it with compose-spec's loader. name
// says which stack it is in errors. The project is named af-<SLUG>.
//
// Nothing of the host is read: keys that make the Compose loader open files
// (env_file, include, extends, secrets, ...) are refused before it runs, and
// only vars are visible to interpolation, never the process environment.
func LoadStack(ctx context.Context, name, tmpl string, vars map[string]string) (*Stack, error) {
	fail := func(line int, msg string, args ...any) error {
		return &StackError{Name: name, Line: line, Message: fmt.Sprintf(msg, args...)}
	}
	if len(tmpl) > maxStackSize {
		return nil, fail(0, "the template is larger than %d bytes", maxStackSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(tmpl), &doc); err != nil {
		p := yamlProblem(err)
		return nil, fail(p.Line, "%s", p.Message)
	}
	root := deref(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, fail(0, "want a Compose file (a mapping with services)")
	}
	if err := checkKeys(name, root); err != nil {
		return nil, err
	}
	if err := checkVariables(name, root, vars); err != nil {
		return nil, err
	}
	project := "af-stack"
	if slugPattern.MatchString(vars["SLUG"]) {
		project = "af-" + vars["SLUG"]
	}
	env := types.Mapping{}
	for k, v := range vars {
		env[k] = v
	}
	p, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  "/nonexistent",
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: []byte(tmpl)}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName(project, true)
		o.ResolvePaths = false
		o.SkipInclude = true
		o.ResourceLoaders = nil
	})
	if err != nil {
		return nil, fail(0, "%s", strings.TrimPrefix(err.Error(), "validating compose.yaml: "))
	}
	if err := checkProject(name, root, p); err != nil {
		return nil, err
	}
	s := &Stack{Project: p}
	if s.Route, s.Readiness, err = readExtension(p); err != nil {
		return nil, &StackError{Name: name, Line: lineOf(root, "x-appfactory"), Key: "x-appfactory", Message: err.Error()}
	}
	if s.Backup, err = readBackupHook(p); err != nil {
		return nil, &StackError{Name: name, Line: lineOf(root, "x-appfactory"), Key: "x-appfactory.backup", Message: err.Error()}
	}
	if s.order, err = dependencyOrder(p); err != nil {
		return nil, &StackError{Name: name, Key: "depends_on", Message: err.Error()}
	}
	return s, nil
}

// checkVariables refuses a template that uses a variable with no value and
// no default: Compose would quietly put an empty string in its place.
func checkVariables(name string, root *yaml.Node, vars map[string]string) error {
	var dict map[string]any
	if err := root.Decode(&dict); err != nil {
		return &StackError{Name: name, Message: err.Error()}
	}
	used := template.ExtractVariables(dict, template.DefaultPattern)
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := vars[n]; !ok && used[n].DefaultValue == "" {
			return &StackError{Name: name, Message: fmt.Sprintf("uses ${%s}, which has no value (known: %s)",
				n, strings.Join(StackVariables(), ", "))}
		}
	}
	return nil
}

// readExtension reads x-appfactory: {route: {service, port}, readiness}.
func readExtension(p *types.Project) (Route, string, error) {
	var rt Route
	x, ok := p.Extensions["x-appfactory"].(map[string]any)
	if !ok {
		return rt, "", fmt.Errorf("is required, e.g. {route: {service: web, port: 8080}, readiness: /healthz}")
	}
	for k := range x {
		if k != "route" && k != "readiness" && k != "backup" {
			return rt, "", fmt.Errorf("unknown key %q (known keys: route, readiness, backup)", k)
		}
	}
	route, ok := x["route"].(map[string]any)
	if !ok {
		return rt, "", fmt.Errorf("route is required: {service: NAME, port: PORT}")
	}
	for k := range route {
		if k != "service" && k != "port" {
			return rt, "", fmt.Errorf("route: unknown key %q (known keys: service, port)", k)
		}
	}
	rt.Service, _ = route["service"].(string)
	if _, ok := p.Services[rt.Service]; !ok {
		return rt, "", fmt.Errorf("route.service %q is not a service of the stack", rt.Service)
	}
	port, err := strconv.Atoi(fmt.Sprint(route["port"]))
	if err != nil || port < 1 || port > 65535 {
		return rt, "", fmt.Errorf("route.port %v: want a port number from 1 to 65535", route["port"])
	}
	rt.Port = port
	ready, _ := x["readiness"].(string)
	if !strings.HasPrefix(ready, "/") || strings.ContainsAny(ready, " \t\r\n#") {
		return rt, "", fmt.Errorf("readiness %q: want an HTTP path such as /healthz", ready)
	}
	return rt, ready, nil
}

// readBackupHook reads x-appfactory's optional backup: {service, dump}.
func readBackupHook(p *types.Project) (*BackupHook, error) {
	x, _ := p.Extensions["x-appfactory"].(map[string]any)
	raw, ok := x["backup"]
	if !ok {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want {service: NAME, dump: [COMMAND, ARGS...]}")
	}
	for k := range m {
		if k != "service" && k != "dump" {
			return nil, fmt.Errorf("unknown key %q (known keys: service, dump)", k)
		}
	}
	h := &BackupHook{}
	h.Service, _ = m["service"].(string)
	if _, ok := p.Services[h.Service]; !ok {
		return nil, fmt.Errorf("service %q is not a service of the stack", h.Service)
	}
	args, ok := m["dump"].([]any)
	if !ok || len(args) == 0 {
		return nil, fmt.Errorf("dump: want the command as a list, such as [pg_dump, -f, /data/dump.sql]")
	}
	for _, a := range args {
		s, ok := a.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("dump: %v is not a non-empty string", a)
		}
		h.Dump = append(h.Dump, s)
	}
	return h, nil
}

// ServiceOrder returns the services in an order that starts every service
// after the ones it depends on; services on an equal footing come by name.
func (s *Stack) ServiceOrder() []string {
	return append([]string(nil), s.order...)
}

// dependencyOrder sorts services topologically by depends_on (Kahn), taking
// the smallest name among the ready ones so the order is stable.
func dependencyOrder(p *types.Project) ([]string, error) {
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for name, svc := range p.Services {
		waiting[name] += 0
		for dep := range svc.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				continue // an optional dependency that is not there
			}
			waiting[name]++
			dependents[dep] = append(dependents[dep], name)
		}
	}
	var ready, order []string
	for name, n := range waiting {
		if n == 0 {
			ready = append(ready, name)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		next := ready[0]
		ready = ready[1:]
		order = append(order, next)
		for _, d := range dependents[next] {
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(order) < len(waiting) {
		var stuck []string
		for name, n := range waiting {
			if n > 0 {
				stuck = append(stuck, name)
			}
		}
		sort.Strings(stuck)
		return nil, fmt.Errorf("services depend on each other in a cycle: %s", strings.Join(stuck, ", "))
	}
	return order, nil
}
