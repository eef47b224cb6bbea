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
	if !strings.Contains(string(list), module+"/orchestrator/docker ") {
		t.Fatalf("go list shows no orchestrator/docker package:\n%s", list)
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
	} {
		if got := layerViolations(tc.line); (len(got) > 0) != tc.bad {
			t.Errorf("%q: violations %q, want bad=%v", tc.line, got, tc.bad)
		}
	}
	if got := layerViolations("appfactory/orchestrator github.com/docker/docker/client github.com/labstack/echo/v4"); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "echo") }) || len(got) != 2 {
		t.Errorf("two violations of one package: %q", got)
	}
}
