package catalog

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Names in the catalog end up in URLs, image tags, Docker labels and
// environment variables: keep them plain.
var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	versionPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$`)
	envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
)

// FieldTypes returns every field type the model editor knows.
func FieldTypes() []string { return []string{"text", "number", "date", "boolean", "choice"} }

// defaultModelSchema applies where a platform says nothing about its model.
func defaultModelSchema() ModelSchema {
	return ModelSchema{FieldTypes: FieldTypes(), MaxDoctypes: 10, MaxFields: 20, MaxChoices: 20}
}

// Parse reads and validates a catalog; name is the file name that errors
// carry. Every problem found is reported, each with its line and path.
func Parse(name string, data []byte) (*Catalog, error) {
	r := &reader{file: name}
	if len(data) > maxCatalogSize {
		r.add(nil, "", "file is larger than %d bytes", maxCatalogSize)
		return nil, r.err()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		r.problems = append(r.problems, yamlProblem(err))
		return nil, r.err()
	}
	if deref(&doc) == nil || doc.Kind == 0 || isNull(&doc) {
		r.add(nil, "", "the catalog is empty")
		return nil, r.err()
	}
	c := r.catalog(&doc)
	r.check(c)
	if len(r.problems) == 0 {
		// Loading stacks costs milliseconds each: only once the rest is sound.
		r.checkStacks(c)
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *reader) catalog(doc *yaml.Node) *Catalog {
	root := deref(doc)
	f := r.fields(root, "", "platforms", "environments")
	c := &Catalog{}
	if n := r.required(f, "platforms", root, ""); n != nil {
		c.Platforms = listOf(r, n, "platforms", 50, r.platform)
	}
	if n := r.required(f, "environments", root, ""); n != nil {
		c.Environments = listOf(r, n, "environments", 20, r.environment)
	}
	return c
}

// listOf reads a non-empty list of at most max mappings with read.
func listOf[T any](r *reader, n *yaml.Node, path string, max int, read func(*yaml.Node, string) T) []T {
	n = deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		r.add(n, path, "want a non-empty list")
		return nil
	}
	if len(n.Content) > max {
		r.add(n, path, "at most %d entries", max)
		return nil
	}
	out := make([]T, 0, len(n.Content))
	for i, item := range n.Content {
		r.mark(index(path, i), item)
		out = append(out, read(item, index(path, i)))
	}
	return out
}

func (r *reader) id(f map[string]*yaml.Node, parent *yaml.Node, path string) string {
	n := r.required(f, "id", parent, path)
	s := r.str(n, join(path, "id"))
	if n != nil && s != "" && !idPattern.MatchString(s) {
		r.add(n, join(path, "id"), "%q: use 1 to 40 lowercase letters, digits and dashes", s)
	}
	return s
}

func (r *reader) name(f map[string]*yaml.Node, parent *yaml.Node, path string) string {
	s := strings.TrimSpace(r.str(r.required(f, "name", parent, path), join(path, "name")))
	if len([]rune(s)) > 80 {
		r.add(f["name"], join(path, "name"), "at most 80 characters")
	}
	return s
}

func (r *reader) platform(n *yaml.Node, path string) Platform {
	n = deref(n)
	f := r.fields(n, path, "id", "name", "description", "versions", "components", "model", "stack")
	p := Platform{
		ID:          r.id(f, n, path),
		Name:        r.name(f, n, path),
		Description: r.str(f["description"], join(path, "description")),
		Model:       defaultModelSchema(),
	}
	if v := r.required(f, "versions", n, path); v != nil {
		p.Versions = listOf(r, v, join(path, "versions"), 100, r.version)
	}
	if v := f["components"]; !isNull(v) {
		p.Components = listOf(r, v, join(path, "components"), 200, r.component)
	}
	if v := f["model"]; !isNull(v) {
		p.Model = r.modelSchema(v, join(path, "model"))
	}
	if v := r.required(f, "stack", n, path); v != nil {
		if deref(v).Kind == yaml.MappingNode {
			r.add(v, join(path, "stack"), "write the Compose file as a block of text (stack: |)")
		} else {
			p.Stack = r.str(v, join(path, "stack"))
		}
		p.stackLine = stackStart(v)
	}
	return p
}

// stackStart is the catalog line just before the stack's first line: a
// literal block ("stack: |") starts on the line after its indicator and
// keeps its lines. Other styles join or escape lines, so no line maps.
func stackStart(n *yaml.Node) int {
	n = deref(n)
	if n.Style&yaml.LiteralStyle != 0 {
		return n.Line
	}
	return 0
}

func (r *reader) version(n *yaml.Node, path string) Version {
	n = deref(n)
	f := r.fields(n, path, "version", "label", "image", "notes", "lts", "deprecated", "stack")
	v := Version{
		Version:    r.str(r.required(f, "version", n, path), join(path, "version")),
		Label:      strings.TrimSpace(r.str(f["label"], join(path, "label"))),
		Image:      r.str(r.required(f, "image", n, path), join(path, "image")),
		Notes:      r.str(f["notes"], join(path, "notes")),
		LTS:        r.boolean(f["lts"], join(path, "lts")),
		Deprecated: r.boolean(f["deprecated"], join(path, "deprecated")),
	}
	if v.Version != "" && !versionPattern.MatchString(v.Version) {
		r.add(f["version"], join(path, "version"), "%q: use letters, digits, dots and dashes (at most 32)", v.Version)
	}
	if v.Image != "" && !imagePattern.MatchString(v.Image) {
		r.add(f["image"], join(path, "image"), "%q is not an image reference", v.Image)
	}
	if s := f["stack"]; !isNull(s) {
		v.Stack = r.str(s, join(path, "stack"))
		v.stackLine = stackStart(s)
	}
	return v
}

// imagePattern is a loose image reference: registry/name:tag or @digest.
var imagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]{0,254}(@sha256:[a-f0-9]{64})?$`)

func (r *reader) component(n *yaml.Node, path string) Component {
	n = deref(n)
	f := r.fields(n, path, "id", "name", "description", "requires", "conflicts", "versions", "env", "files")
	c := Component{
		ID:          r.id(f, n, path),
		Name:        r.name(f, n, path),
		Description: r.str(f["description"], join(path, "description")),
		Requires:    r.strs(f["requires"], join(path, "requires")),
		Conflicts:   r.strs(f["conflicts"], join(path, "conflicts")),
		Versions:    r.strs(f["versions"], join(path, "versions")),
	}
	c.Env = r.strMap(f["env"], join(path, "env"), func(k *yaml.Node, key string) {
		if !envNamePattern.MatchString(key) {
			r.add(k, join(path, "env"), "%q is not a variable name", key)
		}
	})
	c.Files = r.strMap(f["files"], join(path, "files"), func(k *yaml.Node, key string) {
		if msg := checkImagePath(key); msg != "" {
			r.add(k, join(path, "files"), "%q: %s", key, msg)
		}
	})
	return c
}

// checkImagePath says what is wrong with a path where a component file is
// written in the image, or "" when it is fine.
func checkImagePath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "want an absolute path in the image"
	case strings.ContainsAny(p, "\x00\\\n\r") || strings.Contains(p, "//"):
		return "has characters a path cannot hold"
	case strings.HasSuffix(p, "/"):
		return "names a directory, want a file"
	}
	for _, part := range strings.Split(p[1:], "/") {
		if part == "." || part == ".." {
			return "may not hold . or .. parts"
		}
	}
	return ""
}

func (r *reader) modelSchema(n *yaml.Node, path string) ModelSchema {
	f := r.fields(n, path, "field_types", "max_doctypes", "max_fields", "max_choices")
	m := defaultModelSchema()
	if v := f["field_types"]; !isNull(v) {
		m.FieldTypes = r.strs(v, join(path, "field_types"))
		known := FieldTypes()
		for i, t := range m.FieldTypes {
			if !slices.Contains(known, t) {
				r.add(deref(v).Content[i], index(join(path, "field_types"), i), "unknown field type %q (known: %s)", t, strings.Join(known, ", "))
			}
		}
		if len(m.FieldTypes) == 0 {
			r.add(v, join(path, "field_types"), "want at least one field type")
		}
	}
	if v := f["max_doctypes"]; !isNull(v) {
		m.MaxDoctypes = int(r.integer(v, join(path, "max_doctypes"), 1, 100))
	}
	if v := f["max_fields"]; !isNull(v) {
		m.MaxFields = int(r.integer(v, join(path, "max_fields"), 1, 200))
	}
	if v := f["max_choices"]; !isNull(v) {
		m.MaxChoices = int(r.integer(v, join(path, "max_choices"), 1, 200))
	}
	return m
}

func (r *reader) environment(n *yaml.Node, path string) Environment {
	n = deref(n)
	f := r.fields(n, path, "id", "name", "description", "ttl", "idle_timeout", "pause_after",
		"memory", "cpus", "pids_limit", "max_replicas", "max_tenants_per_user")
	e := Environment{
		ID:          r.id(f, n, path),
		Name:        r.name(f, n, path),
		Description: r.str(f["description"], join(path, "description")),
		TTL:         r.duration(f["ttl"], join(path, "ttl")),
		IdleTimeout: r.duration(f["idle_timeout"], join(path, "idle_timeout")),
		PauseAfter:  r.duration(f["pause_after"], join(path, "pause_after")),
		CPUs:        r.float(r.required(f, "cpus", n, path), join(path, "cpus"), 0.01, 64),
		PidsLimit:   256,
		MaxReplicas: int(r.integer(r.required(f, "max_replicas", n, path), join(path, "max_replicas"), 1, 100)),
		MaxTenantsPerUser: int(r.integer(r.required(f, "max_tenants_per_user", n, path),
			join(path, "max_tenants_per_user"), 1, 10000)),
	}
	if v := r.required(f, "memory", n, path); v != nil {
		s := r.str(v, join(path, "memory"))
		b, err := parseSize(s)
		switch {
		case err != nil:
			r.add(v, join(path, "memory"), "%s", err)
		case b < 6<<20 || b > 256<<30:
			// Docker refuses less than 6 MiB.
			r.add(v, join(path, "memory"), "want from 6MiB to 256GiB, not %q", s)
		}
		e.MemoryBytes = b
	}
	if v := f["pids_limit"]; !isNull(v) {
		e.PidsLimit = r.integer(v, join(path, "pids_limit"), 16, 1<<22)
	}
	if e.PauseAfter > 0 && e.IdleTimeout > 0 && e.PauseAfter >= e.IdleTimeout {
		r.add(f["pause_after"], join(path, "pause_after"), "must be shorter than idle_timeout (%s), or 0 for off", e.IdleTimeout)
	}
	return e
}

func (r *reader) duration(n *yaml.Node, path string) time.Duration {
	s := r.str(n, path)
	if s == "" {
		return 0
	}
	d, err := parseDuration(s)
	if err != nil {
		r.add(n, path, "%s", err)
	}
	return d
}
