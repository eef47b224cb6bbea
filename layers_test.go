package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is this module's path, the prefix of its own import paths.
const module = "appfactory"

// layerRule is one rule of the layout (STYLE.md, "Layout shows the
// architecture"): it names what is wrong when package rel (a folder of the
// module, "" for the root) imports imp, or returns "".
type layerRule func(rel, imp string) string

// under tells whether folder rel is dir or inside it.
func under(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// imports tells whether imp is path or a package below it.
func imports(imp, path string) bool {
	return imp == path || strings.HasPrefix(imp, path+"/")
}

// layerRules keep each outside dependency in the one package named for it,
// and the dependencies between ours pointing inwards.
var layerRules = []layerRule{
	func(rel, imp string) string {
		if (imports(imp, "github.com/docker/docker") || imports(imp, "github.com/containerd/errdefs")) && !under(rel, "orchestrator/docker") {
			return "the Docker client belongs to orchestrator/docker"
		}
		return ""
	},
	func(rel, imp string) string {
		if imports(imp, "github.com/labstack/echo") && !under(rel, "web") && !under(rel, "handlers") {
			return "echo belongs to web and handlers"
		}
		return ""
	},
	func(rel, imp string) string {
		if (imports(imp, "github.com/jmoiron/sqlx") || imports(imp, "modernc.org/sqlite")) && !under(rel, "store") {
			return "the SQL layer belongs to store"
		}
		return ""
	},
	func(rel, imp string) string {
		if under(rel, "orchestrator") && imports(imp, module+"/web") {
			return "the orchestrator must not know the web server"
		}
		return ""
	},
	func(rel, imp string) string {
		if under(rel, "store") && (imports(imp, module+"/orchestrator") || imports(imp, module+"/handlers")) {
			return "store is used by the orchestrator and handlers, never the reverse"
		}
		return ""
	},
	func(rel, imp string) string {
		// The contract imports nothing of ours, so an adapter depends on it alone.
		if under(rel, "orchestrator/runtime") && imports(imp, module) {
			return "orchestrator/runtime is a contract of standard types only"
		}
		return ""
	},
	func(rel, imp string) string {
		// The vocabulary everyone imports, and the socket I/O both the web
		// server and the router use, depend on nothing, so that importing
		// them never drags a layer along. A standard library path
		// has no dot in its first element.
		if (under(rel, "domain") || under(rel, "sockio")) && (imports(imp, module) || strings.Contains(strings.Split(imp, "/")[0], ".")) {
			return rel + " imports the standard library only"
		}
		return ""
	},
	func(rel, imp string) string {
		// Test support (the fake runtime, the live engine env) is for tests,
		// and go list's Imports leave test files out.
		if imports(imp, module+"/orchestrator/internal") {
			return "orchestrator/internal is imported by tests only"
		}
		return ""
	},
	func(rel, imp string) string {
		if !under(rel, "orchestrator") || !imports(imp, module+"/orchestrator") || under(rel, "orchestrator/internal") {
			return ""
		}
		allowed, ok := orchestratorLayers[rel]
		if !ok {
			return "a package of the orchestrator missing from orchestratorLayers"
		}
		dep := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
		if !slices.Contains(allowed, dep) {
			return rel + " may import only " + strings.Join(allowed, ", ") + " of the orchestrator"
		}
		return ""
	},
}

// orchestratorLayers is the pipeline as the compiler sees it: which
// orchestrator packages each one may import. The leaves (the contract, the
// route table, the prober, the metrics) import none; the stages (reconcile,
// router, sleep, monitor) never import each other nor the root, so they
// meet only through the leaves and the small interfaces each declares; only
// orchestrator/docker and the wiring in main know the Docker adapter.
var orchestratorLayers = map[string][]string{
	"orchestrator/runtime":      {},
	"orchestrator/route":        {},
	"orchestrator/ready":        {},
	"orchestrator/metrics":      {},
	"orchestrator/hostwall":     {},
	"orchestrator/docker":       {"orchestrator/runtime"},
	"orchestrator/docker/swarm": {"orchestrator/docker", "orchestrator/runtime"},
	"orchestrator/stack":        {"orchestrator/runtime"},
	"orchestrator/factory":      {"orchestrator/runtime"},
	"orchestrator/reconcile":    {"orchestrator/runtime", "orchestrator/stack", "orchestrator/factory", "orchestrator/route", "orchestrator/ready", "orchestrator/metrics"},
	"orchestrator/router":       {"orchestrator/route", "orchestrator/ready", "orchestrator/metrics"},
	"orchestrator/sleep":        {"orchestrator/route"},
	"orchestrator/budget":       {"orchestrator/route"},
	"orchestrator/monitor":      {"orchestrator/runtime", "orchestrator/stack", "orchestrator/route", "orchestrator/metrics"},
	"orchestrator":              {"orchestrator/runtime", "orchestrator/stack", "orchestrator/factory", "orchestrator/route"},
}

// layerViolations checks `go list` lines ("pkg imp imp ...") against the
// rules; the sample platforms are programs of their own and exempt.
func layerViolations(list string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || !imports(fields[0], module) {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if under(rel, "platforms") {
			continue
		}
		for _, imp := range fields[1:] {
			for _, rule := range layerRules {
				if why := rule(rel, imp); why != "" {
					out = append(out, fields[0]+" imports "+imp+": "+why)
				}
			}
		}
	}
	return out
}

// TestLayers reads the non-test imports of every package of the module and
// fails on any that breaks the layout.
func TestLayers(t *testing.T) {
	var stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	cmd.Stderr = &stderr
	list, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	for rel := range orchestratorLayers {
		if !strings.Contains(string(list), strings.TrimSuffix(module+"/"+rel, "/")+" ") {
			t.Fatalf("go list shows no %s package:\n%s", rel, list)
		}
	}
	for _, v := range layerViolations(string(list)) {
		t.Error(v)
	}
}

// TestLayerRulesCatchViolations makes sure each rule would fail the build,
// so TestLayers passing means something.
func TestLayerRulesCatchViolations(t *testing.T) {
	for _, tc := range []struct {
		line string
		bad  bool
	}{
		{"appfactory/orchestrator github.com/docker/docker/client", true},
		{"appfactory/handlers github.com/containerd/errdefs", true},
		{"appfactory/orchestrator/docker github.com/docker/docker/client github.com/containerd/errdefs", false},
		{"appfactory/orchestrator github.com/labstack/echo/v4", true},
		{"appfactory/web/session github.com/labstack/echo/v4", false},
		{"appfactory/handlers github.com/labstack/echo/v4", false},
		{"appfactory/webhooks github.com/labstack/echo/v4", true},
		{"appfactory/handlers github.com/jmoiron/sqlx", true},
		{"appfactory modernc.org/sqlite", true},
		{"appfactory/store github.com/jmoiron/sqlx modernc.org/sqlite", false},
		{"appfactory/orchestrator appfactory/web", true},
		{"appfactory/orchestrator/docker appfactory/web/htmx", true},
		{"appfactory/store appfactory/orchestrator/runtime", true},
		{"appfactory/store appfactory/handlers", true},
		{"appfactory/orchestrator/runtime appfactory/store", true},
		{"appfactory/orchestrator/runtime context io time", false},
		{"appfactory/platforms/contentapp github.com/labstack/echo/v4 modernc.org/sqlite", false},
		{"appfactory/orchestrator/route appfactory/store sync", false},
		{"appfactory/orchestrator/route appfactory/orchestrator/stack", true},
		{"appfactory/orchestrator/router appfactory/orchestrator/route appfactory/orchestrator/ready", false},
		{"appfactory/orchestrator/router appfactory/orchestrator/reconcile", true},
		{"appfactory/orchestrator/sleep appfactory/orchestrator/router", true},
		{"appfactory/orchestrator/monitor appfactory/orchestrator", true},
		{"appfactory/orchestrator/reconcile appfactory/orchestrator/docker", true},
		{"appfactory/orchestrator appfactory/orchestrator/docker", true},
		{"appfactory/orchestrator/reconcile appfactory/orchestrator/internal/fakeruntime", true},
		{"appfactory/orchestrator/newstage appfactory/orchestrator/route", true},
		{"appfactory/orchestrator/internal/fakeruntime appfactory/orchestrator/runtime appfactory/orchestrator/stack", false},
		{"appfactory appfactory/orchestrator/docker appfactory/orchestrator/reconcile", false},
		{"appfactory/domain encoding/json strings", false},
		{"appfactory/domain appfactory/apperr", true},
		{"appfactory/domain github.com/google/uuid", true},
		{"appfactory/store appfactory/domain", false},
	} {
		if got := layerViolations(tc.line); (len(got) > 0) != tc.bad {
			t.Errorf("%q: violations %q, want bad=%v", tc.line, got, tc.bad)
		}
	}
	if got := layerViolations("appfactory/orchestrator github.com/docker/docker/client github.com/labstack/echo/v4"); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "echo") }) || len(got) != 2 {
		t.Errorf("two violations of one package: %q", got)
	}
}
