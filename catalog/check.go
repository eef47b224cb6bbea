package catalog

import (
	"context"
	"errors"
	"slices"
	"sort"
)

// check validates what spans entries: unique ids, and components that refer
// to each other and to versions.
func (r *reader) check(c *Catalog) {
	seen := map[string]bool{}
	for i := range c.Platforms {
		p := &c.Platforms[i]
		path := index("platforms", i)
		if p.ID != "" && seen[p.ID] {
			r.addAt(join(path, "id"), "duplicate platform id %q", p.ID)
		}
		seen[p.ID] = true
		r.checkPlatform(p, path)
	}
	seen = map[string]bool{}
	for i, e := range c.Environments {
		if e.ID != "" && seen[e.ID] {
			r.addAt(join(index("environments", i), "id"), "duplicate environment id %q", e.ID)
		}
		seen[e.ID] = true
	}
}

func (r *reader) checkPlatform(p *Platform, path string) {
	versions := map[string]bool{}
	current := 0
	for i, v := range p.Versions {
		if v.Version != "" && versions[v.Version] {
			r.addAt(join(index(join(path, "versions"), i), "version"), "duplicate version %q", v.Version)
		}
		versions[v.Version] = true
		if !v.Deprecated {
			current++
		}
	}
	if len(p.Versions) > 0 && current == 0 {
		r.addAt(join(path, "versions"), "every version is deprecated: new apps could choose none")
	}
	ids := map[string]bool{}
	for i, c := range p.Components {
		if c.ID != "" && ids[c.ID] {
			r.addAt(join(index(join(path, "components"), i), "id"), "duplicate component id %q", c.ID)
		}
		ids[c.ID] = true
	}
	for i := range p.Components {
		r.checkComponent(p, &p.Components[i], index(join(path, "components"), i), versions)
	}
	r.checkMaterials(p, path)
}

func (r *reader) checkComponent(p *Platform, c *Component, path string, versions map[string]bool) {
	refs := func(key string, list []string) {
		seen := map[string]bool{}
		for j, id := range list {
			at := index(join(path, key), j)
			other, ok := p.Component(id)
			switch {
			case seen[id]:
				r.addAt(at, "%q is listed twice", id)
			case id == c.ID:
				r.addAt(at, "a component cannot list itself")
			case !ok:
				r.addAt(at, "unknown component %q", id)
			case key == "requires":
				for _, v := range p.Versions {
					if c.Supports(v.Version) && !other.Supports(v.Version) {
						r.addAt(at, "%s is offered on %s but requires %s, which is not", c.ID, v.Version, id)
					}
				}
			}
			seen[id] = true
		}
	}
	refs("requires", c.Requires)
	refs("conflicts", c.Conflicts)
	for j, id := range c.Requires {
		if slices.Contains(c.Conflicts, id) {
			r.addAt(index(join(path, "requires"), j), "%q is both required and in conflict", id)
		}
	}
	for j, v := range c.Versions {
		if !versions[v] {
			r.addAt(index(join(path, "versions"), j), "unknown version %q", v)
		}
	}
}

// checkMaterials refuses two components that can be selected together and
// set the same variable or file to different contents: the result would
// depend on the order they are applied in.
func (r *reader) checkMaterials(p *Platform, path string) {
	for i := range p.Components {
		a := &p.Components[i]
		for j := i + 1; j < len(p.Components); j++ {
			b := &p.Components[j]
			if slices.Contains(a.Conflicts, b.ID) || slices.Contains(b.Conflicts, a.ID) {
				continue
			}
			for _, k := range sortedKeys(a.Env) {
				if v, ok := b.Env[k]; ok && v != a.Env[k] {
					r.addAt(join(index(join(path, "components"), j), "env"),
						"%s and %s both set %s: declare them in conflict or use one value", a.ID, b.ID, k)
				}
			}
			for _, k := range sortedKeys(a.Files) {
				if v, ok := b.Files[k]; ok && v != a.Files[k] {
					r.addAt(join(index(join(path, "components"), j), "files"),
						"%s and %s both write %s: declare them in conflict or use one content", a.ID, b.ID, k)
				}
			}
		}
	}
}

// checkStacks loads every version's stack with sample values, so a broken
// or refused template stops the catalog, not a tenant's deployment.
func (r *reader) checkStacks(c *Catalog) {
	for i := range c.Platforms {
		p := &c.Platforms[i]
		checked := map[string]bool{}
		for j, v := range p.Versions {
			stack, path, line, name := p.Stack, join(index("platforms", i), "stack"), p.stackLine, "platform "+p.ID+" stack"
			if v.Stack != "" {
				stack, path, line = v.Stack, join(index(join(index("platforms", i), "versions"), j), "stack"), v.stackLine
				name = "platform " + p.ID + " version " + v.Version + " stack"
			}
			if checked[stack] {
				continue
			}
			checked[stack] = true
			_, err := LoadStack(context.Background(), name, stack, SampleVars(p.ID, v.Version, v.Image))
			if err == nil {
				continue
			}
			var se *StackError
			if errors.As(err, &se) && se.Line > 0 && line > 0 {
				r.addLine(line+se.Line, path, "%s", err)
				continue
			}
			r.addAt(path, "%s", err)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
