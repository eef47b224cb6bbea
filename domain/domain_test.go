package domain

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestIsAPIPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/api":                true,
		"/api/":               true,
		"/api/v1/apps":        true,
		"/api/v1/tenants/x/y": true,
		"/metrics":            true,
		"/apis":               false,
		"/apix/v1":            false,
		"/metrics/x":          false,
		"/metricsx":           false,
		"/":                   false,
		"":                    false,
		"/apps":               false,
		"/static/api.js":      false,
		"/healthz":            false,
		"/tenants/api":        false,
	} {
		t.Run(path, func(t *testing.T) {
			if got := IsAPIPath(path); got != want {
				t.Fatalf("IsAPIPath(%q) = %v, want %v", path, got, want)
			}
		})
	}
}

// constValues reads this package's source for the string constants whose
// names start with prefix, so that a constant added without its list fails.
func constValues(t *testing.T, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "tenant.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, prefix) {
					continue
				}
				v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
		}
	}
	return out
}

func TestListsCompleteAndUnique(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		list   []string
	}{
		{"State", TenantStates()},
		{"Desired", DesiredStates()},
		{"Event", EventKinds()},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			consts := constValues(t, tc.prefix)
			if len(consts) == 0 {
				t.Fatal("no constants found")
			}
			seen := map[string]bool{}
			for _, v := range tc.list {
				if seen[v] {
					t.Errorf("%q is listed twice", v)
				}
				seen[v] = true
				if !slices.Contains(consts, v) {
					t.Errorf("%q is listed but no %s constant", v, tc.prefix)
				}
			}
			for _, v := range consts {
				if !seen[v] {
					t.Errorf("%s constant %q is missing from the list", tc.prefix, v)
				}
			}
		})
	}
}

func TestDesiredStatesAreActualStates(t *testing.T) {
	// A tenant that reaches what it was asked for shows the same word.
	for _, d := range DesiredStates() {
		if !slices.Contains(TenantStates(), d) {
			t.Errorf("desired state %q is no actual state", d)
		}
	}
}

func TestListsAreCopies(t *testing.T) {
	TenantStates()[0] = "changed"
	if TenantStates()[0] != StatePending {
		t.Fatal("a caller changed the state list")
	}
}

func TestWithLists(t *testing.T) {
	m := Model{Title: "Docs", Doctypes: []Doctype{{Name: "Note"}, {Name: "Invoice", Fields: []Field{{Name: "total", Type: "number"}}}}}
	got, err := json.Marshal(m.WithLists())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"title":"Docs","color":"","doctypes":[{"name":"Note","fields":[]},{"name":"Invoice","fields":[{"name":"total","type":"number"}]}]}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if b, _ := json.Marshal(Model{}.WithLists()); string(b) != `{"title":"","color":"","doctypes":[]}` {
		t.Fatalf("zero model: %s", b)
	}
	w := m.WithLists()
	w.Doctypes[1].Fields[0].Name = "changed"
	if m.Doctypes[1].Fields[0].Name != "total" {
		t.Fatal("WithLists shares the fields with the original")
	}
}

func TestAssemblySnapshotJSON(t *testing.T) {
	// A tenant's snapshot leaves out what the tenant's columns hold, and
	// keeps the keys it had when it was its own type.
	a := Assembly{Components: []string{"comments"}, Model: Model{Title: "Docs"}}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"components":["comments"],"custom_components":null,"model":{"title":"Docs","color":"","doctypes":null}}`; string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}

func TestCustomIDs(t *testing.T) {
	ids := []string{"a", "b"}
	a := Assembly{Custom: CustomByID(ids)}
	if got := a.CustomIDs(); !slices.Equal(got, ids) {
		t.Fatalf("got %v", got)
	}
	if CustomByID(nil) != nil || (Assembly{}).CustomIDs() == nil {
		t.Fatal("nil handling: an app without custom components has none, listed as []")
	}
}
