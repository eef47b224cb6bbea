package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"appfactory/apperr"
	"gopkg.in/yaml.v3"
)

// BundleLimits bound what an uploaded component bundle may hold. Start from
// DefaultBundleLimits: a zero MaxArchive, MaxUnpacked or MaxEntries accepts
// nothing.
type BundleLimits struct {
	MaxArchive  int64 // bytes of the archive itself
	MaxUnpacked int64 // bytes of every file once unpacked
	MaxEntries  int   // entries, directories included
	// MaxRatio is the unpacked-to-archive size ratio allowed once more
	// than a mebibyte is unpacked; 0 means 100.
	MaxRatio int64
}

// DefaultBundleLimits returns the limits for uploads.
func DefaultBundleLimits() BundleLimits {
	return BundleLimits{MaxArchive: 20 << 20, MaxUnpacked: 50 << 20, MaxEntries: 500, MaxRatio: 100}
}

// Manifest is a bundle's component.yaml.
type Manifest struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// BundleFile is a regular file of a bundle; Mode is 0644 or 0755.
type BundleFile struct {
	Path string
	Mode int64
	Data []byte
}

// Bundle is a checked custom component: its manifest and files, sorted by
// path, with the SHA-256 and size of the archive it came from.
type Bundle struct {
	Manifest Manifest
	Files    []BundleFile
	SHA256   string
	Size     int64
}

// ManifestName is the file at the root of a bundle that describes it.
const ManifestName = "component.yaml"

const (
	ratioFloor      = 1 << 20 // below this, any compression ratio is fine
	maxManifestSize = 64 << 10
	maxPathLength   = 255
	maxPathDepth    = 32
)

var (
	bundleNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	semverPattern     = regexp.MustCompile(`^v?[0-9]{1,9}(\.[0-9]{1,9}){0,2}(-[0-9A-Za-z.-]{1,40})?(\+[0-9A-Za-z.-]{1,40})?$`)
)

func refuse(format string, args ...any) *apperr.Error {
	return apperr.FieldError(apperr.Unprocessable, "file", format, args...)
}

func tooLarge(format string, args ...any) *apperr.Error {
	return apperr.FieldError(apperr.TooLarge, "file", format, args...)
}

// ReadBundle checks an uploaded .tar.gz, .tgz or .zip (told apart by their
// first bytes, not by filename) and returns its contents, or an
// *apperr.Error saying what is wrong. It is all or nothing: nothing is
// written anywhere, and sizes are counted while reading, never taken from
// the archive's own headers.
func ReadBundle(filename string, data []byte, lim BundleLimits) (*Bundle, error) {
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = 100
	}
	size := int64(len(data))
	switch {
	case size == 0:
		return nil, refuse("The file %q is empty.", filename)
	case size > lim.MaxArchive:
		return nil, tooLarge("The archive is %s; at most %s is accepted.", humanBytes(size), humanBytes(lim.MaxArchive))
	}
	u := &unpacker{lim: lim, entries: map[string]bool{}, dirs: map[string]bool{}}
	// The budget applies while reading: the total limit, or less when the
	// archive is small enough that the total would mean a bomb's ratio.
	u.budget = min(lim.MaxUnpacked, max(ratioFloor, lim.MaxRatio*size))
	var err error
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		err = u.readTarGz(data)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		err = u.readZip(data)
	default:
		return nil, refuse("%q is not a .tar.gz, .tgz or .zip archive.", filename)
	}
	if err != nil {
		return nil, err
	}
	m, err := u.manifest()
	if err != nil {
		return nil, err
	}
	sort.Slice(u.files, func(i, j int) bool { return u.files[i].Path < u.files[j].Path })
	sum := sha256.Sum256(data)
	return &Bundle{Manifest: m, Files: u.files, SHA256: hex.EncodeToString(sum[:]), Size: size}, nil
}

// unpacker collects entries and enforces the limits as they come.
type unpacker struct {
	lim      BundleLimits
	budget   int64           // bytes that may still be unpacked, in all
	unpacked int64           // bytes unpacked so far
	count    int             // entries seen
	entries  map[string]bool // cleaned path -> is a directory
	dirs     map[string]bool // parents of the files and directories seen
	files    []BundleFile
}

// addDir records a directory entry.
func (u *unpacker) addDir(name string) error {
	p, err := u.enter(name)
	if err != nil || p == "" {
		return err
	}
	u.entries[p] = true
	return nil
}

// addFile records a regular file, reading at most what the budget allows.
func (u *unpacker) addFile(name string, mode int64, r io.Reader) error {
	p, err := u.enter(name)
	if err != nil {
		return err
	}
	if p == "" {
		return refuse("The archive holds a file with no name.")
	}
	if u.dirs[p] {
		return refuse("%q is both a file and a directory in the archive.", p)
	}
	left := u.budget - u.unpacked
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, left+1))
	if n > left || errors.Is(err, errStream) {
		return u.overBudget()
	}
	if err != nil {
		return refuse("The archive is damaged (%s).", plainError(err))
	}
	u.unpacked += n
	u.entries[p] = false
	perm := int64(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	u.files = append(u.files, BundleFile{Path: p, Mode: perm, Data: buf.Bytes()})
	return nil
}

func (u *unpacker) overBudget() error {
	if u.budget < u.lim.MaxUnpacked {
		return tooLarge("The archive unpacks to more than %d times its size: it looks like an archive bomb.", u.lim.MaxRatio)
	}
	return tooLarge("Unpacked, the archive holds more than the %s accepted.", humanBytes(u.lim.MaxUnpacked))
}

// enter counts an entry and checks its path, returning it cleaned ("" for
// the archive's root directory, as in "./").
func (u *unpacker) enter(name string) (string, error) {
	if u.count++; u.count > u.lim.MaxEntries {
		return "", tooLarge("The archive holds more than %d entries.", u.lim.MaxEntries)
	}
	p, msg := cleanEntryPath(name)
	if msg != "" {
		return "", refuse("Entry %q %s.", name, msg)
	}
	if p == "" {
		return "", nil
	}
	if _, dup := u.entries[p]; dup {
		return "", refuse("%q appears twice in the archive.", p)
	}
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		if isDir, ok := u.entries[dir]; ok && !isDir {
			return "", refuse("%q is both a file and a directory in the archive.", dir)
		}
		u.dirs[dir] = true
	}
	return p, nil
}

// cleanEntryPath returns the cleaned relative path of an entry, or why it
// is refused.
func cleanEntryPath(name string) (string, string) {
	switch {
	case name == "":
		return "", "has no name"
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", "has characters a file name cannot hold"
	case strings.Contains(name, `\`):
		return "", "uses backslashes"
	case strings.HasPrefix(name, "/") || (len(name) >= 2 && name[1] == ':'):
		return "", "is an absolute path"
	case len(name) > maxPathLength:
		return "", "has too long a path"
	}
	parts := strings.Split(name, "/")
	for _, part := range parts {
		if part == ".." {
			return "", "leaves the archive (..)"
		}
	}
	if len(parts) > maxPathDepth {
		return "", "is nested too deep"
	}
	p := path.Clean(name)
	if p == "." {
		return "", ""
	}
	return p, ""
}

// manifest reads and checks component.yaml at the root of the archive.
func (u *unpacker) manifest() (Manifest, error) {
	var data []byte
	found := false
	for _, f := range u.files {
		if f.Path == ManifestName {
			data, found = f.Data, true
		}
	}
	if !found {
		return Manifest{}, refuse("The archive has no %s at its root.", ManifestName)
	}
	if len(data) > maxManifestSize {
		return Manifest{}, refuse("%s is larger than %s.", ManifestName, humanBytes(maxManifestSize))
	}
	return ParseManifest(data)
}

// ParseManifest reads and checks a component.yaml.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	r := &reader{file: ManifestName}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		r.problems = append(r.problems, yamlProblem(err))
	} else {
		root := deref(&doc)
		f := r.fields(root, "", "name", "version", "description")
		m.Name = r.str(r.required(f, "name", root, ""), "name")
		m.Version = r.str(r.required(f, "version", root, ""), "version")
		m.Description = strings.TrimSpace(r.str(f["description"], "description"))
		switch {
		case m.Name != "" && !bundleNamePattern.MatchString(m.Name):
			r.add(f["name"], "name", "%q: use 1 to 40 lowercase letters, digits and dashes", m.Name)
		case m.Version != "" && !semverPattern.MatchString(m.Version):
			r.add(f["version"], "version", "%q: want a version like 1.0.0", m.Version)
		case utf8.RuneCountInString(m.Description) > 500:
			r.add(f["description"], "description", "at most 500 characters")
		case strings.IndexFunc(m.Description, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) >= 0:
			r.add(f["description"], "description", "has control characters")
		}
	}
	if err := r.err(); err != nil {
		p := r.problems[0]
		where := ManifestName
		if p.Line > 0 {
			where = fmt.Sprintf("%s line %d", ManifestName, p.Line)
		}
		if p.Path != "" {
			where += ", " + p.Path
		}
		return Manifest{}, refuse("%s: %s.", where, p.Message)
	}
	return m, nil
}

// plainError keeps a reader's error short for a user.
func plainError(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "archive/tar: "), "zip: ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
