package main

import (
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"appfactory/catalog"
)

// readme is the README's text.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeListsEveryServeFlag keeps the README's configuration table in
// step with `appfactory serve`: every flag has a row, with its default.
func TestReadmeListsEveryServeFlag(t *testing.T) {
	text := readme(t)
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\| ([^|]+) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(text, -1) {
		rows[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	var cfg serveConfig
	fs := serveFlags(&cfg, io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		t.Run(f.Name, func(t *testing.T) {
			got, ok := rows[f.Name]
			if !ok {
				t.Fatalf("README has no row for --%s", f.Name)
			}
			if !sameDefault(f, got) {
				t.Errorf("README says --%s defaults to %q; the flag says %q", f.Name, got, f.DefValue)
			}
		})
	})
	for name := range rows {
		if fs.Lookup(name) == nil {
			t.Errorf("README lists --%s, which serve does not have", name)
		}
	}
}

// sameDefault compares a flag's default with the README's words for it:
// durations by value, and "unset" defaults by their description.
func sameDefault(f *flag.Flag, readme string) bool {
	switch f.DefValue {
	case "", "0s":
		return readme == "built-in" || readme == "per environment" || readme == "unset"
	}
	if d, err := time.ParseDuration(f.DefValue); err == nil {
		r, err := time.ParseDuration(readme)
		return err == nil && r == d
	}
	return readme == f.DefValue
}

// TestReadmeCatalogExample loads the README's catalog example as
// `serve --catalog` would, and its stack as a deployment would.
func TestReadmeCatalogExample(t *testing.T) {
	m := regexp.MustCompile("(?s)\n```yaml\n(.*?)```\n").FindStringSubmatch(readme(t))
	if m == nil {
		t.Fatal("no yaml example in the README")
	}
	path := t.TempDir() + "/catalog.yaml"
	if err := os.WriteFile(path, []byte(m[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Platform("gitea")
	if !ok || len(p.Versions) == 0 || len(p.Components) == 0 || len(c.Environments) == 0 {
		t.Fatalf("the example holds %+v", c)
	}
	v := p.Versions[0]
	if _, err := catalog.LoadStack(t.Context(), path, p.StackFor(v.Version), catalog.SampleVars(p.ID, v.Version, v.Image)); err != nil {
		t.Fatal(err)
	}
}
