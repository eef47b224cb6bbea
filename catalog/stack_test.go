package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// stackWith returns a small valid template with service lines added under
// web and top-level lines added at the end.
func stackWith(service, top string) string {
	s := `x-appfactory:
  route: {service: web, port: 8080}
  readiness: /healthz
services:
  web:
    image: ${APP_IMAGE}
`
	if service != "" {
		s += "    " + service + "\n"
	}
	s += "volumes:\n  data: {}\n"
	if top != "" {
		s += top + "\n"
	}
	return s
}

func tenantVars() map[string]string {
	return StackParams{
		Tenant: "t1", Slug: "acme", Image: "appfactory/contentapp:2.0", Platform: "contentapp", Version: "2.0",
		Env: "demo", Replicas: 2, MemoryBytes: 512 << 20, CPUs: 1, PidsLimit: 512,
		PublicURL: "http://acme.localhost:8080", Secret: "s3cret",
	}.Vars()
}

// refusedServiceKeys is the refusal list, one line of a service each; the
// key named must appear in the error.
var refusedServiceKeys = []struct{ name, line, key string }{
	{"privileged", "privileged: true", "privileged"},
	{"network_mode host", "network_mode: host", "network_mode"},
	{"network_mode of another container", `network_mode: "container:other"`, "network_mode"},
	{"networks", "networks: [default]", "networks"},
	{"pid host", "pid: host", "pid"},
	{"ipc host", "ipc: host", "ipc"},
	{"uts host", "uts: host", "uts"},
	{"userns host", "userns_mode: host", "userns_mode"},
	{"cap_add", "cap_add: [NET_ADMIN]", "cap_add"},
	{"devices", `devices: ["/dev/kmsg:/dev/kmsg"]`, "devices"},
	{"device rules", `device_cgroup_rules: ["c 1:3 mr"]`, "device_cgroup_rules"},
	{"gpus", "gpus: all", "gpus"},
	{"ports", `ports: ["8080:8080"]`, "ports"},
	{"ports on loopback", `ports: ["127.0.0.1:8080:8080"]`, "ports"},
	{"extra_hosts", `extra_hosts: ["db:10.0.0.1"]`, "extra_hosts"},
	{"dns", "dns: 1.1.1.1", "dns"},
	{"security_opt seccomp", `security_opt: ["seccomp=unconfined"]`, "security_opt"},
	{"security_opt apparmor", `security_opt: ["apparmor:unconfined"]`, "security_opt"},
	{"security_opt label", `security_opt: ["label=disable"]`, "security_opt"},
	{"user root", "user: root", "user"},
	{"user 0:0", `user: "0:0"`, "user"},
	{"build", "build: .", "build"},
	{"bind mount", `volumes: ["/etc:/host-etc"]`, "volumes"},
	{"relative bind mount", `volumes: ["./src:/src"]`, "volumes"},
	{"bind mount long syntax", "volumes: [{type: bind, source: /, target: /host}]", "volumes"},
	{"bind options", "volumes: [{type: volume, source: data, target: /d, bind: {propagation: shared}}]", "volumes[0].bind"},
	{"image volume", "volumes: [{type: image, source: busybox, target: /b}]", "volumes"},
	{"npipe", "volumes: [{type: npipe, source: x, target: /x}]", "volumes"},
	{"anonymous volume", `volumes: ["/scratch"]`, "volumes"},
	{"undeclared volume", `volumes: ["other:/other"]`, ""},
	{"volume subpath", "volumes: [{type: volume, source: data, target: /d, volume: {subpath: x}}]", "volumes[0].volume.subpath"},
	{"volumes_from", "volumes_from: [other]", "volumes_from"},
	{"links", "links: [db]", "links"},
	{"external_links", "external_links: [other_db]", "external_links"},
	{"env_file", "env_file: [/etc/passwd]", "env_file"},
	{"label_file", "label_file: [/etc/passwd]", "label_file"},
	{"extends", "extends: {file: /etc/other.yaml, service: x}", "extends"},
	{"service secrets", "secrets: [x]", "secrets"},
	{"service configs", "configs: [x]", "configs"},
	{"container_name", "container_name: other-tenant-web-1", "container_name"},
	{"hostname", "hostname: portal", "hostname"},
	{"reserved label", "labels: {appfactory.tenant: someone-else}", "labels"},
	{"reserved compose label", `labels: ["com.docker.compose.project=af-other"]`, "labels"},
	{"sysctls", "sysctls: {net.ipv4.ip_forward: 1}", "sysctls"},
	{"ulimits", "ulimits: {nproc: 65535}", "ulimits"},
	{"cgroup_parent", "cgroup_parent: /", "cgroup_parent"},
	{"cgroup host", "cgroup: host", "cgroup"},
	{"runtime", "runtime: runc", "runtime"},
	{"logging", "logging: {driver: syslog}", "logging"},
	{"api socket", "use_api_socket: true", "use_api_socket"},
	{"lifecycle hook", "post_start: [{command: id, privileged: true}]", "post_start"},
	{"placement", "deploy: {placement: {constraints: [node.role==manager]}}", "deploy.placement"},
	{"gpu reservation", "deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}", "deploy.resources.reservations.devices"},
	{"start_interval", "healthcheck: {test: [CMD, x], start_interval: 1s}", "healthcheck.start_interval"},
	{"scale", "scale: 3", "scale"},
	{"too many replicas", "deploy: {replicas: 1000}", "deploy"},
	{"bad service key", "colour: red", "colour"},
}

func TestLoadStackRefusesServiceKeys(t *testing.T) {
	for _, tc := range refusedServiceKeys {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadStack(t.Context(), "test stack", stackWith(tc.line, ""), tenantVars())
			var se *StackError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *StackError", err)
			}
			if tc.key != "" && (se.Service != "web" || se.Key != tc.key) {
				t.Errorf("error names service %q key %q, want web %q: %v", se.Service, se.Key, tc.key, err)
			}
			if !strings.HasPrefix(err.Error(), "test stack: ") {
				t.Errorf("error does not name the stack: %v", err)
			}
		})
	}
}

func TestLoadStackRefusesTopLevelKeys(t *testing.T) {
	for _, tc := range []struct{ name, top, key string }{
		{"external volume", "  other: {external: true}", "volumes.other.external"},
		{"volume driver", "  other: {driver: rexray}", "volumes.other.driver"},
		{"bind through driver_opts", "  other: {driver_opts: {type: none, o: bind, device: /etc}}", "volumes.other.driver_opts"},
		{"volume name", "  other: {name: af-someone-data}", "volumes.other.name"},
		{"reserved volume label", "  other: {labels: {appfactory.tenant: x}}", "volumes.other"},
		{"networks", "networks: {default: {external: true, name: host}}", "networks"},
		{"include", "include: [/etc/other.yaml]", "include"},
		{"secrets", "secrets: {key: {file: /etc/shadow}}", "secrets"},
		{"secrets from env", "secrets: {key: {environment: HOME}}", "secrets"},
		{"configs", "configs: {c: {file: /etc/passwd}}", "configs"},
		{"name", "name: af-someone", "name"},
		{"version", "version: \"3.8\"", "version"},
		{"models", "models: {m: {model: x}}", "models"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadStack(t.Context(), "test stack", stackWith("", tc.top), tenantVars())
			var se *StackError
			if !errors.As(err, &se) || se.Key != tc.key {
				t.Fatalf("err = %v (%#v), want key %q", err, se, tc.key)
			}
		})
	}
}

func TestLoadStackRefusesThroughAnchors(t *testing.T) {
	tmpl := `x-base: &base
  privileged: true
x-appfactory: {route: {service: web, port: 80}, readiness: /}
services:
  web:
    <<: *base
    image: x
`
	_, err := LoadStack(t.Context(), "anchors", tmpl, tenantVars())
	var se *StackError
	if !errors.As(err, &se) || se.Key != "privileged" || se.Service != "web" {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadStackContentapp(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Platform("contentapp")
	s, err := LoadStack(t.Context(), "acme", p.StackFor("2.0"), tenantVars())
	if err != nil {
		t.Fatal(err)
	}
	if s.Project.Name != "af-acme" {
		t.Errorf("project name %q", s.Project.Name)
	}
	if s.Route != (Route{Service: "web", Port: 8080}) || s.Readiness != "/healthz" {
		t.Errorf("route %+v readiness %q", s.Route, s.Readiness)
	}
	if got := s.ServiceOrder(); !slicesEqual(got, []string{"store", "web"}) {
		t.Errorf("order %v", got)
	}
	web, store := s.Project.Services["web"], s.Project.Services["store"]
	if web.Image != "appfactory/contentapp:2.0" || store.Image != web.Image {
		t.Errorf("images %q %q", web.Image, store.Image)
	}
	if web.Deploy == nil || web.Deploy.Replicas == nil || *web.Deploy.Replicas != 2 {
		t.Errorf("web deploy %+v", web.Deploy)
	}
	if lim := web.Deploy.Resources.Limits; lim == nil || int64(lim.MemoryBytes) != 512<<20 || lim.NanoCPUs != 1 || lim.Pids != 512 {
		t.Errorf("web limits %+v", web.Deploy.Resources.Limits)
	}
	if v := web.Environment["CONTENTAPP_STORE_URL"]; v == nil || *v != "http://store:8081" {
		t.Errorf("web environment %v", web.Environment)
	}
	if dep, ok := web.DependsOn["store"]; !ok || dep.Condition != "service_started" {
		t.Errorf("web depends_on %+v", web.DependsOn)
	}
	if len(store.Volumes) != 1 || store.Volumes[0].Source != "data" || store.Volumes[0].Target != "/data" {
		t.Errorf("store volumes %+v", store.Volumes)
	}
	if hc := store.HealthCheck; hc == nil || strings.Join(hc.Test, " ") != "CMD /contentapp health http://127.0.0.1:8081/healthz" {
		t.Errorf("store healthcheck %+v", store.HealthCheck)
	}
	if _, ok := s.Project.Volumes["data"]; !ok {
		t.Error("no data volume")
	}
}

func TestLoadStackInterpolation(t *testing.T) {
	t.Setenv("APPFACTORY_HOST_SECRET", "leaked")
	tmpl := stackWith(`environment: {A: "${SLUG}-${TENANT}", B: "${APPFACTORY_HOST_SECRET:-none}", C: "$${SLUG}", D: "${PUBLIC_URL}/x"}`, "")
	vars := tenantVars()
	vars["APP_IMAGE"] = "x\nprivileged: true" // values are never YAML
	s, err := LoadStack(t.Context(), "interp", tmpl, vars)
	if err != nil {
		t.Fatal(err)
	}
	web := s.Project.Services["web"]
	want := map[string]string{"A": "acme-t1", "B": "none", "C": "${SLUG}", "D": "http://acme.localhost:8080/x"}
	for k, v := range want {
		if got := web.Environment[k]; got == nil || *got != v {
			t.Errorf("%s = %v, want %q", k, got, v)
		}
	}
	if web.Privileged || web.Image != vars["APP_IMAGE"] {
		t.Errorf("a value changed the structure: %+v", web)
	}
	if _, err := LoadStack(t.Context(), "interp", stackWith(`environment: {A: "${NOPE}"}`, ""), vars); err == nil || !strings.Contains(err.Error(), "uses ${NOPE}") {
		t.Errorf("unset variable: err = %v", err)
	}
	// A host path coming from a value is still a bind mount.
	vars["SLUG"] = "acme"
	if _, err := LoadStack(t.Context(), "interp", stackWith(`volumes: ["${PUBLIC_URL_PATH:-/etc}:/x"]`, ""), vars); err == nil || !strings.Contains(err.Error(), "host bind mount") {
		t.Errorf("interpolated bind: err = %v", err)
	}
}

func TestServiceOrder(t *testing.T) {
	tmpl := `x-appfactory: {route: {service: front, port: 80}, readiness: /}
services:
  front: {image: x, depends_on: [api, cache]}
  api: {image: x, depends_on: {db: {condition: service_healthy}, queue: {condition: service_started}}}
  cache: {image: x}
  db: {image: x}
  queue: {image: x, depends_on: [db]}
  zz: {image: x}
`
	s, err := LoadStack(t.Context(), "order", tmpl, tenantVars())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.ServiceOrder(), []string{"cache", "db", "queue", "api", "front", "zz"}; !slicesEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	s.ServiceOrder()[0] = "changed"
	if s.ServiceOrder()[0] != "cache" {
		t.Error("ServiceOrder hands out its own slice")
	}
	cycle := `x-appfactory: {route: {service: a, port: 80}, readiness: /}
services:
  a: {image: x, depends_on: [b]}
  b: {image: x, depends_on: [a]}
`
	if _, err := LoadStack(t.Context(), "cycle", cycle, tenantVars()); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: err = %v", err)
	}
}

func TestLoadStackExtension(t *testing.T) {
	for _, tc := range []struct{ name, ext, want string }{
		{"missing", "", "x-appfactory: is required"},
		{"no route", "x-appfactory: {readiness: /}", "route is required"},
		{"unknown key", "x-appfactory: {route: {service: web, port: 80}, readiness: /, tls: true}", "unknown key \"tls\""},
		{"bad port", "x-appfactory: {route: {service: web, port: 0}, readiness: /}", "route.port 0"},
		{"port as text", "x-appfactory: {route: {service: web, port: http}, readiness: /}", "route.port http"},
		{"bad readiness", "x-appfactory: {route: {service: web, port: 80}, readiness: healthz}", "readiness \"healthz\""},
		{"unknown service", "x-appfactory: {route: {service: db, port: 80}, readiness: /}", "route.service \"db\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := tc.ext + "\nservices:\n  web: {image: x}\n"
			_, err := LoadStack(t.Context(), "ext", tmpl, tenantVars())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadStackAllowsWhatItSupports(t *testing.T) {
	lines := []string{
		"expose: [\"8080\"]",
		"cap_drop: [ALL]",
		"security_opt: [\"no-new-privileges:true\"]",
		"user: \"1000:0\"",
		"read_only: true",
		"tmpfs: [/tmp]",
		"volumes: [{type: tmpfs, target: /run, tmpfs: {size: 1048576}}, {type: volume, source: data, target: /data, read_only: true}]",
		"restart: unless-stopped",
		"stop_grace_period: 5s",
		"labels: {org.example.role: web}",
		"healthcheck: {test: [CMD, /app, health], interval: 1s, timeout: 1s, retries: 3, start_period: 2s}",
		"deploy: {replicas: \"${REPLICAS}\", resources: {limits: {memory: \"${MEMORY}\", cpus: \"${CPUS}\", pids: \"${PIDS_LIMIT}\"}}}",
		"entrypoint: [/app]",
		"working_dir: /srv",
		"init: true",
	}
	for _, line := range lines {
		if _, err := LoadStack(t.Context(), "ok", stackWith(line, ""), tenantVars()); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}

func BenchmarkLoadStackContentapp(b *testing.B) {
	c, err := Load("")
	if err != nil {
		b.Fatal(err)
	}
	p, _ := c.Platform("contentapp")
	vars := tenantVars()
	for b.Loop() {
		if _, err := LoadStack(b.Context(), "bench", p.Stack, vars); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadStackBackupHook(t *testing.T) {
	base := "x-appfactory: {route: {service: web, port: 80}, readiness: /, backup: %s}\nservices:\n  web: {image: x}\n  db: {image: y}\n"
	s, err := LoadStack(t.Context(), "hook", fmt.Sprintf(base, "{service: db, dump: [/bin/dump, -o, /data/dump.sql]}"), tenantVars())
	if err != nil {
		t.Fatal(err)
	}
	if s.Backup == nil || s.Backup.Service != "db" || strings.Join(s.Backup.Dump, " ") != "/bin/dump -o /data/dump.sql" {
		t.Fatalf("hook %+v", s.Backup)
	}
	if s, err := LoadStack(t.Context(), "no hook", "x-appfactory: {route: {service: web, port: 80}, readiness: /}\nservices:\n  web: {image: x}\n", tenantVars()); err != nil || s.Backup != nil {
		t.Fatalf("a stack without a hook: %+v, %v", s, err)
	}
	for _, tc := range []struct{ name, hook, want string }{
		{"not a map", "[dump]", "want {service: NAME"},
		{"unknown service", "{service: cache, dump: [d]}", "service \"cache\""},
		{"no dump", "{service: db}", "dump: want the command as a list"},
		{"dump as text", "{service: db, dump: 'pg_dump -f x'}", "dump: want the command as a list"},
		{"empty argument", "{service: db, dump: [d, '']}", "is not a non-empty string"},
		{"unknown key", "{service: db, dump: [d], restore: [r]}", "unknown key \"restore\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadStack(t.Context(), "hook", fmt.Sprintf(base, tc.hook), tenantVars())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x-appfactory.backup") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
