package factory

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// buildContextTime is every entry's mtime, so equal content gives equal bytes.
var buildContextTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildContext is an in-memory build context; its tar is deterministic:
// entries sorted by path, fixed times and owners.
type BuildContext struct {
	files map[string]contextFile
}

type contextFile struct {
	mode int64
	data []byte
}

// NewBuildContext returns an empty build context.
func NewBuildContext() *BuildContext {
	return &BuildContext{files: map[string]contextFile{}}
}

// Add puts a file at a relative slash path; a mode of zero means 0644. A
// later Add of the same path replaces the earlier one. The setuid, setgid
// and sticky bits are dropped: a file the context holds is root's, and a
// setuid root program in a tenant image would run as root wherever the
// engine cannot set no-new-privileges (swarm services on API 1.41, the
// engine Debian 12 ships).
func (b *BuildContext) Add(name string, mode int64, data []byte) error {
	clean, err := contextPath(name)
	if err != nil {
		return err
	}
	if mode == 0 {
		mode = 0o644
	}
	if mode&^0o7777 != 0 {
		return fmt.Errorf("build context: %s: mode %o has more than permission bits", name, mode)
	}
	b.files[clean] = contextFile{mode: mode & 0o777, data: data}
	return nil
}

// contextPath cleans a relative slash path that stays inside the context.
func contextPath(name string) (string, error) {
	clean := path.Clean(name)
	if name == "" || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("build context: path %q is not relative inside the context", name)
	}
	return clean, nil
}

// Bytes returns the tar archive of the context.
func (b *BuildContext) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(b.files)) {
		// Parent directories first, so the engine never invents their modes.
		for i, part := 0, strings.Split(name, "/"); i < len(part)-1; i++ {
			dir := strings.Join(part[:i+1], "/") + "/"
			if dirs[dir] {
				continue
			}
			if _, isFile := b.files[strings.TrimSuffix(dir, "/")]; isFile {
				return nil, fmt.Errorf("build context: %s is both a file and a directory", strings.TrimSuffix(dir, "/"))
			}
			dirs[dir] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: buildContextTime, Format: tar.FormatPAX}); err != nil {
				return nil, fmt.Errorf("build context: %w", err)
			}
		}
		f := b.files[name]
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: f.mode, Size: int64(len(f.data)), ModTime: buildContextTime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

// Reader returns the tar archive of the context as a reader.
func (b *BuildContext) Reader() (io.Reader, error) {
	data, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(data), nil
}

// TarContext builds a context from path -> content, with modes by path
// (missing ones are 0644), and returns its tar. Two names of one path
// ("a" and "./a") are refused: which one won would depend on map order.
func TarContext(files map[string][]byte, modes map[string]int64) (io.Reader, error) {
	b := NewBuildContext()
	for name, data := range files {
		clean, err := contextPath(name)
		if err != nil {
			return nil, err
		}
		if _, dup := b.files[clean]; dup {
			return nil, fmt.Errorf("build context: path %s given twice", clean)
		}
		if err := b.Add(name, modes[name], data); err != nil {
			return nil, err
		}
	}
	return b.Reader()
}
