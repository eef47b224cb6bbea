package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxProblems caps the problems reported for one file: past that the rest
// are usually echoes of the first ones.
const maxProblems = 50

// Problem is one thing wrong in a catalog file.
type Problem struct {
	Line    int    // 1-based; 0 when unknown
	Path    string // e.g. platforms[0].versions[1].image
	Message string
}

// LoadError lists everything wrong in a catalog file, each problem with its
// line and path.
type LoadError struct {
	File     string
	Problems []Problem
}

func (e *LoadError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		if p.Path != "" {
			b.WriteString(": " + p.Path)
		}
		b.WriteString(": " + p.Message)
	}
	return b.String()
}

// reader walks a yaml.Node tree and records problems with their lines, so
// that a catalog author sees every mistake at once.
type reader struct {
	file     string
	problems []Problem
	lines    map[string]int // path -> line, for problems found after reading
}

// mark remembers the line of a path.
func (r *reader) mark(path string, n *yaml.Node) {
	if r.lines == nil {
		r.lines = map[string]int{}
	}
	if n != nil {
		r.lines[path] = n.Line
	}
}

// addAt records a problem at a path read earlier, on the line of the path or
// of its nearest enclosing path.
func (r *reader) addAt(path, format string, args ...any) {
	line := 0
	for p := path; p != ""; {
		if l, ok := r.lines[p]; ok {
			line = l
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	r.addLine(line, path, format, args...)
}

func (r *reader) add(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.addLine(line, path, format, args...)
}

func (r *reader) addLine(line int, path, format string, args ...any) {
	if len(r.problems) >= maxProblems {
		return
	}
	r.problems = append(r.problems, Problem{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (r *reader) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return &LoadError{File: r.file, Problems: r.problems}
}

// deref follows aliases and unwraps documents. A bounded loop: yaml.v3 does
// not build alias cycles, but a bound costs nothing.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 16; i++ {
		switch {
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		default:
			return n
		}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// fields checks that n is a mapping with only known keys, each once, and
// returns the value nodes by key.
func (r *reader) fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		r.add(n, path, "want a mapping of %s", strings.Join(known, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			r.add(k, path, "keys must be plain words")
		case !slices.Contains(known, key):
			r.add(k, join(path, key), "unknown key (known keys: %s)", strings.Join(known, ", "))
		case out[key] != nil:
			r.add(k, join(path, key), "duplicate key")
		default:
			out[key] = v
			r.mark(join(path, key), k)
		}
	}
	return out
}

// required reports a missing key against its parent mapping.
func (r *reader) required(f map[string]*yaml.Node, key string, parent *yaml.Node, path string) *yaml.Node {
	n := f[key]
	if isNull(n) {
		if n == nil {
			n = parent
		}
		r.add(n, join(path, key), "is required")
		return nil
	}
	return n
}

func (r *reader) scalar(n *yaml.Node, path string) (*yaml.Node, bool) {
	n = deref(n)
	if isNull(n) {
		return n, false
	}
	if n.Kind != yaml.ScalarNode {
		r.add(n, path, "want a single value")
		return n, false
	}
	return n, true
}

func (r *reader) str(n *yaml.Node, path string) string {
	if n, ok := r.scalar(n, path); ok {
		return n.Value
	}
	return ""
}

func (r *reader) boolean(n *yaml.Node, path string) bool {
	n, ok := r.scalar(n, path)
	if !ok {
		return false
	}
	var b bool
	if n.Tag != "!!bool" || n.Decode(&b) != nil {
		r.add(n, path, "want true or false, not %q", n.Value)
	}
	return b
}

func (r *reader) integer(n *yaml.Node, path string, lo, hi int64) int64 {
	n, ok := r.scalar(n, path)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil || v < lo || v > hi {
		r.add(n, path, "want a whole number from %d to %d, not %q", lo, hi, n.Value)
		return 0
	}
	return v
}

func (r *reader) float(n *yaml.Node, path string, lo, hi float64) float64 {
	n, ok := r.scalar(n, path)
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || !(v >= lo && v <= hi) {
		r.add(n, path, "want a number from %g to %g, not %q", lo, hi, n.Value)
		return 0
	}
	return v
}

// strs reads a list of single values.
func (r *reader) strs(n *yaml.Node, path string) []string {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.add(n, path, "want a list")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		r.mark(index(path, i), item)
		if s := r.str(item, index(path, i)); s != "" {
			out = append(out, s)
		} else {
			r.add(item, index(path, i), "is empty")
		}
	}
	return out
}

// strMap reads a mapping of names to single values; check validates each key.
func (r *reader) strMap(n *yaml.Node, path string, check func(k *yaml.Node, key string)) map[string]string {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.add(n, path, "want a mapping")
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := fmt.Sprintf("%s[%q]", path, k.Value)
		if _, dup := out[k.Value]; dup {
			r.add(k, p, "duplicate key")
			continue
		}
		check(k, k.Value)
		vn := deref(v)
		if vn == nil || vn.Kind != yaml.ScalarNode {
			r.add(v, p, "want a single value")
			continue
		}
		out[k.Value] = vn.Value
	}
	return out
}

// syntaxLine finds the line in a yaml.v3 syntax error ("yaml: line 3: ...").
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlProblem turns a yaml.v3 error into a Problem with its line.
func yamlProblem(err error) Problem {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: strings.TrimPrefix(msg, m[0])}
	}
	return Problem{Message: strings.TrimPrefix(msg, "yaml: ")}
}
