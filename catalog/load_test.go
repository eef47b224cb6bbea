package catalog

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest sound catalog; the tests below break it one line
// at a time. Line numbers matter: the stack starts after line 12.
const minimal = `platforms:
  - id: app
    name: App
    versions:
      - version: "1"
        image: example/app:1
    components:
      - id: a
        name: A
      - id: b
        name: B
    stack: |
      x-appfactory:
        route: {service: web, port: 8080}
        readiness: /healthz
      services:
        web:
          image: ${APP_IMAGE}
environments:
  - id: trial
    name: Trial
    memory: 256MiB
    cpus: 0.5
    max_replicas: 1
    max_tenants_per_user: 1
`

// edit returns minimal with old replaced by new; old must be there.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(minimal, old) {
		t.Fatalf("minimal catalog has no %q", old)
	}
	return strings.Replace(minimal, old, new, 1)
}

func TestParseMinimal(t *testing.T) {
	c, err := Parse("test.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Platform("app")
	if !ok || len(p.Versions) != 1 || len(p.Components) != 2 {
		t.Fatalf("platform = %+v", p)
	}
	if got := p.Model.FieldTypes; len(got) != 5 {
		t.Errorf("default field types = %v", got)
	}
	e, _ := c.Environment("trial")
	if e.MemoryBytes != 256<<20 || e.CPUs != 0.5 || e.PidsLimit != 256 || e.TTL != 0 {
		t.Errorf("environment = %+v", e)
	}
}

func TestDefaultCatalog(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Platform("contentapp")
	if !ok {
		t.Fatal("no contentapp platform")
	}
	want := map[string]struct {
		image           string
		lts, deprecated bool
	}{
		"1.0": {"appfactory/contentapp:1.0", true, false},
		"2.0": {"appfactory/contentapp:2.0", false, false},
		"0.9": {"appfactory/contentapp:0.9", false, true},
	}
	for ver, w := range want {
		v, ok := p.Version(ver)
		if !ok || v.Image != w.image || v.LTS != w.lts || v.Deprecated != w.deprecated {
			t.Errorf("version %s = %+v, want %+v", ver, v, w)
		}
	}
	if p.Versions[0].Deprecated {
		t.Error("the first version is deprecated: clients pick the first one by default")
	}
	for _, id := range []string{"comments", "versioning", "workflow", "search", "audit", "export"} {
		if _, ok := p.Component(id); !ok {
			t.Errorf("no component %s", id)
		}
	}
	if comp, _ := p.Component("comments"); comp.Env["CONTENTAPP_FEATURE_COMMENTS"] != "1" || len(comp.Requires) > 0 {
		t.Errorf("comments = %+v", comp)
	}
	if comp, _ := p.Component("workflow"); !slicesEqual(comp.Requires, []string{"versioning"}) {
		t.Errorf("workflow requires %v", comp.Requires)
	}
	envs := map[string]struct {
		ttl, idle, pause time.Duration
		replicas         int
	}{
		"trial":      {7 * 24 * time.Hour, 15 * time.Minute, 2 * time.Minute, 1},
		"demo":       {30 * 24 * time.Hour, time.Hour, 2 * time.Minute, 2},
		"production": {0, 0, 0, 7},
	}
	for id, w := range envs {
		e, ok := c.Environment(id)
		if !ok || e.TTL != w.ttl || e.IdleTimeout != w.idle || e.PauseAfter != w.pause || e.MaxReplicas != w.replicas {
			t.Errorf("environment %s = %+v, want %+v", id, e, w)
		}
		if e.MemoryBytes == 0 || e.CPUs == 0 || e.PidsLimit == 0 || e.MaxTenantsPerUser == 0 {
			t.Errorf("environment %s lacks limits: %+v", id, e)
		}
	}
	if p.StackFor("2.0") != p.Stack || p.StackFor("nope") != p.Stack {
		t.Error("StackFor does not fall back to the platform stack")
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestExampleCatalogs(t *testing.T) {
	for _, tc := range []struct {
		file, platform string
		services       []string
	}{
		{"examples/nuxeo.yaml", "nuxeo", []string{"db", "nuxeo"}},
		{"examples/wordpress.yaml", "wordpress", []string{"db", "wordpress"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, err := Load(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := c.Platform(tc.platform)
			if !ok || len(p.Versions) < 2 || len(p.Components) < 3 {
				t.Fatalf("platform %s = %+v", tc.platform, p)
			}
			for _, v := range p.Versions {
				s, err := LoadStack(t.Context(), tc.file, p.StackFor(v.Version), SampleVars(p.ID, v.Version, v.Image))
				if err != nil {
					t.Fatalf("version %s: %v", v.Version, err)
				}
				if got := s.ServiceOrder(); !slicesEqual(got, tc.services) {
					t.Errorf("version %s: order %v, want %v", v.Version, got, tc.services)
				}
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(edit(t, "    name: App\n", "    name: App\n    colour: red\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":4: platforms[0].colour: unknown key") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("a missing file loaded")
	}
}

func TestParseRefusesBadCatalogs(t *testing.T) {
	for _, tc := range []struct {
		name, catalog string
		want          string // file:line: path: message prefix
	}{
		{"syntax", edit(t, "    name: App\n", "    name: [App\n"), "test.yaml:2: did not find expected ',' or ']'"},
		{"empty", "", "test.yaml: the catalog is empty"},
		{"not a mapping", "- a\n", "test.yaml:1: want a mapping"},
		{"unknown top key", "colour: red\n" + minimal, "test.yaml:1: colour: unknown key"},
		{"unknown platform key", edit(t, "    name: App\n", "    name: App\n    colour: red\n"), "test.yaml:4: platforms[0].colour: unknown key"},
		{"unknown environment key", edit(t, "    cpus: 0.5\n", "    cpus: 0.5\n    gpus: 1\n"), "test.yaml:24: environments[0].gpus: unknown key"},
		{"duplicate key", edit(t, "    name: App\n", "    name: App\n    name: Again\n"), "test.yaml:4: platforms[0].name: duplicate key"},
		{"duplicate component id", edit(t, "      - id: b\n", "      - id: a\n"), "test.yaml:10: platforms[0].components[1].id: duplicate component id \"a\""},
		{"duplicate platform id", strings.Replace(minimal, "environments:", "  - id: app\n    name: Again\n    versions: [{version: \"1\", image: x/y:1}]\n    stack: \"services: {}\"\nenvironments:", 1), "test.yaml:19: platforms[1].id: duplicate platform id \"app\""},
		{"duplicate environment id", minimal + "  - {id: trial, name: T, memory: 1GiB, cpus: 1, max_replicas: 1, max_tenants_per_user: 1}\n", "test.yaml:26: environments[1].id: duplicate environment id"},
		{"duplicate version", edit(t, "        image: example/app:1\n", "        image: example/app:1\n      - version: \"1\"\n        image: example/app:2\n"), "test.yaml:7: platforms[0].versions[1].version: duplicate version"},
		{"missing image", edit(t, "        image: example/app:1\n", ""), "test.yaml:5: platforms[0].versions[0].image: is required"},
		{"bad image", edit(t, "example/app:1", "Example App"), "test.yaml:6: platforms[0].versions[0].image: \"Example App\" is not an image reference"},
		{"missing stack", edit(t, "    stack: |\n", "    stack_: |\n"), "test.yaml:12: platforms[0].stack_: unknown key"},
		{"stack as a mapping", edit(t, "    stack: |\n", "    stack:\n"), "test.yaml:13: platforms[0].stack: write the Compose file as a block of text"},
		{"bad id", edit(t, "  - id: app\n", "  - id: App_1\n"), "test.yaml:2: platforms[0].id: \"App_1\": use 1 to 40 lowercase"},
		{"bad duration", edit(t, "    name: Trial\n", "    name: Trial\n    ttl: 7 days\n"), "test.yaml:22: environments[0].ttl: want a duration"},
		{"negative duration", edit(t, "    name: Trial\n", "    name: Trial\n    idle_timeout: -5m\n"), "test.yaml:22: environments[0].idle_timeout: "},
		{"pause after idle", edit(t, "    name: Trial\n", "    name: Trial\n    idle_timeout: 5m\n    pause_after: 10m\n"), "test.yaml:23: environments[0].pause_after: must be shorter than idle_timeout"},
		{"bad memory", edit(t, "256MiB", "lots"), "test.yaml:22: environments[0].memory: want a size"},
		{"tiny memory", edit(t, "256MiB", "1MiB"), "test.yaml:22: environments[0].memory: want from 6MiB"},
		{"bad number", edit(t, "max_replicas: 1", "max_replicas: many"), "test.yaml:24: environments[0].max_replicas: want a whole number"},
		{"bad bool", edit(t, "        image: example/app:1\n", "        image: example/app:1\n        lts: maybe\n"), "test.yaml:7: platforms[0].versions[0].lts: want true or false"},
		{"requires unknown", edit(t, "        name: B\n", "        name: B\n        requires: [zzz]\n"), "test.yaml:12: platforms[0].components[1].requires[0]: unknown component \"zzz\""},
		{"conflicts unknown", edit(t, "        name: B\n", "        name: B\n        conflicts: [zzz]\n"), "test.yaml:12: platforms[0].components[1].conflicts[0]: unknown component"},
		{"requires itself", edit(t, "        name: B\n", "        name: B\n        requires: [b]\n"), "test.yaml:12: platforms[0].components[1].requires[0]: a component cannot list itself"},
		{"requires and conflicts", edit(t, "        name: B\n", "        name: B\n        requires: [a]\n        conflicts: [a]\n"), "test.yaml:12: platforms[0].components[1].requires[0]: \"a\" is both required and in conflict"},
		{"unknown version", edit(t, "        name: B\n", "        name: B\n        versions: [\"9\"]\n"), "test.yaml:12: platforms[0].components[1].versions[0]: unknown version \"9\""},
		{"bad env name", edit(t, "        name: B\n", "        name: B\n        env: {\"NOT OK\": 1}\n"), "test.yaml:12: platforms[0].components[1].env: \"NOT OK\" is not a variable name"},
		{"relative file", edit(t, "        name: B\n", "        name: B\n        files: {etc/x: y}\n"), "test.yaml:12: platforms[0].components[1].files: \"etc/x\": want an absolute path"},
		{"all deprecated", edit(t, "        image: example/app:1\n", "        image: example/app:1\n        deprecated: true\n"), "test.yaml:4: platforms[0].versions: every version is deprecated"},
		{"unknown field type", edit(t, "    stack: |\n", "    model: {field_types: [text, colour]}\n    stack: |\n"), "test.yaml:12: platforms[0].model.field_types[1]: unknown field type \"colour\""},
		{"no environments", strings.Split(minimal, "environments:")[0], "test.yaml:1: environments: is required"},
		{"stack syntax", edit(t, "        web:\n", "        web: [\n"), "test.yaml:16: platforms[0].stack: platform app stack: line 4: did not find expected"},
		{"stack refused key", edit(t, "          image: ${APP_IMAGE}\n", "          image: ${APP_IMAGE}\n          privileged: true\n"), "test.yaml:19: platforms[0].stack: platform app stack: line 7: service \"web\": privileged: refused"},
		{"stack unknown variable", edit(t, "${APP_IMAGE}", "${IMAGE}"), "test.yaml:12: platforms[0].stack: platform app stack: uses ${IMAGE}, which has no value"},
		{"stack without route", edit(t, "        readiness: /healthz\n", ""), "test.yaml:13: platforms[0].stack: platform app stack: line 1: x-appfactory: readiness"},
		{"stack routes nowhere", edit(t, "service: web", "service: api"), "test.yaml:13: platforms[0].stack: platform app stack: line 1: x-appfactory: route.service \"api\" is not a service"},
		{"version stack refused", edit(t, "        image: example/app:1\n", "        image: example/app:1\n        stack: |\n          services:\n            web:\n              image: x\n              ports: [\"80:80\"]\n"), "test.yaml:11: platforms[0].versions[0].stack: platform app version 1 stack: line 4: service \"web\": ports: refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.catalog))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to start with:\n%s", err, tc.want)
			}
		})
	}
}

func TestParseMaterialClash(t *testing.T) {
	both := edit(t, "        name: A\n", "        name: A\n        env: {X: \"1\"}\n")
	both = strings.Replace(both, "        name: B\n", "        name: B\n        env: {X: \"2\"}\n", 1)
	_, err := Parse("test.yaml", []byte(both))
	if err == nil || !strings.Contains(err.Error(), "a and b both set X") {
		t.Fatalf("err = %v", err)
	}
	// Components in conflict may set the same variable: never selected together.
	apart := strings.Replace(both, "        env: {X: \"2\"}\n", "        env: {X: \"2\"}\n        conflicts: [a]\n", 1)
	if _, err := Parse("test.yaml", []byte(apart)); err != nil {
		t.Fatal(err)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	bad := edit(t, "    name: App\n", "    name: App\n    colour: red\n")
	bad = strings.Replace(bad, "256MiB", "lots", 1)
	_, err := Parse("test.yaml", []byte(bad))
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != 2 {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRequiresOnUnsupportedVersion(t *testing.T) {
	c := edit(t, "        image: example/app:1\n", "        image: example/app:1\n      - version: \"2\"\n        image: example/app:2\n")
	c = strings.Replace(c, "        name: A\n", "        name: A\n        versions: [\"2\"]\n", 1)
	c = strings.Replace(c, "        name: B\n", "        name: B\n        requires: [a]\n", 1)
	_, err := Parse("test.yaml", []byte(c))
	if err == nil || !strings.Contains(err.Error(), "b is offered on 1 but requires a, which is not") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseDurationsAndSizes(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "none": 0, "90s": 90 * time.Second, "7d": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7 days", "-1s", "xd", "1y"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) succeeded", in)
		}
	}
	for in, want := range map[string]int64{"1024": 1024, "256MiB": 256 << 20, "512m": 512 << 20, "1GiB": 1 << 30, "1.5g": 3 << 29, "64 KiB": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "1TiB", "-1m", "1e30g", "m"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

// TestCatalogJSON pins the shape that API clients read.
func TestCatalogJSON(t *testing.T) {
	data, err := json.Marshal(loadDefault(t))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Platforms []struct {
			ID       string `json:"id"`
			Versions []struct {
				Version    string `json:"version"`
				Deprecated bool   `json:"deprecated"`
			} `json:"versions"`
			Components []struct {
				ID string `json:"id"`
			} `json:"components"`
			Model ModelSchema `json:"model"`
		} `json:"platforms"`
		Environments []map[string]any `json:"environments"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	p := got.Platforms[0]
	if p.ID != "contentapp" || p.Versions[0].Version != "2.0" || p.Versions[0].Deprecated || p.Components[0].ID != "comments" || p.Model.MaxDoctypes != 10 {
		t.Errorf("platform JSON %+v", p)
	}
	trial := got.Environments[0]
	if trial["id"] != "trial" || trial["ttl_seconds"] != float64(7*24*3600) || trial["max_replicas"] != float64(1) {
		t.Errorf("environment JSON %v", trial)
	}
	if strings.Contains(string(data), "x-appfactory") {
		t.Error("the JSON holds stack templates")
	}
}

func BenchmarkLoadDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Load(""); err != nil {
			b.Fatal(err)
		}
	}
}
