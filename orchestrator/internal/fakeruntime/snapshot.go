package fakeruntime

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"appfactory/orchestrator/runtime"
)

// file is one entry of a fake volume: a tar header and its content.
type file struct {
	hdr  tar.Header
	body []byte
}

// Snapshot implements runtime.Snapshots: the tenant's volumes as a tar,
// each volume a directory of the files RestoreSnapshot (or WriteFile) put
// in it. It is logged as "snapshot <tenant>".
func (f *Runtime) Snapshot(_ context.Context, tenantID string, w io.Writer) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.failLocked("snapshot", ""); err != nil {
		return err
	}
	t, err := f.stillLocked(tenantID, true)
	if err != nil {
		return err
	}
	f.logLocked("snapshot %s", tenantID)
	return t.writeSnapshotLocked(w)
}

// writeSnapshotLocked writes the tenant's volumes as a snapshot; f.Mu is held.
func (t *tenant) writeSnapshotLocked(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, v := range slices.Sorted(maps.Keys(t.volumes)) {
		root := tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}
		if h, ok := t.roots[v]; ok {
			root = h
		}
		root.Name = v + "/"
		if err := tw.WriteHeader(&root); err != nil {
			return err
		}
		for _, fl := range t.files[v] {
			h := fl.hdr
			h.Name = v + "/" + h.Name
			if err := tw.WriteHeader(&h); err != nil {
				return err
			}
			if _, err := tw.Write(fl.body); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// RestoreSnapshot implements runtime.Snapshots as the Docker adapter
// does: the snapshot is checked whole, the replicas removed, and each
// volume's content replaced. It is logged as "restore <tenant>".
func (f *Runtime) RestoreSnapshot(_ context.Context, tenantID string, r io.Reader) error {
	files, roots := map[string][]file{}, map[string]tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read the snapshot: %w", err)
		}
		v, rest, _ := strings.Cut(strings.TrimPrefix(h.Name, "./"), "/")
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if _, ok := files[v]; !ok {
			files[v] = nil // a volume's own directory entry names it
		}
		if rest == "" && h.Typeflag != tar.TypeDir {
			return fmt.Errorf("entry %q is not a directory: %w", h.Name, runtime.ErrSnapshotVolume)
		}
		if rest == "" {
			roots[v] = *h
		}
		if rest != "" {
			hh := *h
			hh.Name = rest
			files[v] = append(files[v], file{hdr: hh, body: body})
		}
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.failLocked("restore", ""); err != nil {
		return err
	}
	t, err := f.stillLocked(tenantID, false)
	if err != nil {
		return err
	}
	for v := range files {
		if !t.volumes[v] {
			return fmt.Errorf("volume %q: %w", v, runtime.ErrSnapshotVolume)
		}
	}
	f.logLocked("restore %s", tenantID)
	for name := range t.replicas {
		delete(t.replicas, name)
	}
	t.files, t.roots = files, roots
	return nil
}

// stillLocked returns a tenant whose replicas are all stopped (or paused,
// when paused is true), with at least one; f.Mu is held.
func (f *Runtime) stillLocked(tenantID string, paused bool) (*tenant, error) {
	t := f.tenants[tenantID]
	if t == nil || len(t.replicas) == 0 {
		return nil, fmt.Errorf("snapshot of %s: no replica to copy through: %w", tenantID, runtime.ErrNotFound)
	}
	for _, rp := range t.replicas {
		if rp.Running || rp.Paused && !paused {
			return nil, fmt.Errorf("replica %s is %s: %w", rp.Name, rp.State, runtime.ErrReplicasRunning)
		}
	}
	return t, nil
}

// WriteFile puts a file into a tenant's volume, as a replica writing its
// data would.
func (f *Runtime) WriteFile(tenantID, volume, name string, content []byte) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	t := f.tenants[tenantID]
	if t == nil || !t.volumes[volume] {
		panic(fmt.Sprintf("fakeruntime: WriteFile to volume %s of tenant %s, which does not exist", volume, tenantID))
	}
	if t.files == nil {
		t.files = map[string][]file{}
	}
	t.files[volume] = slices.DeleteFunc(t.files[volume], func(fl file) bool { return fl.hdr.Name == name })
	t.files[volume] = append(t.files[volume], file{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}, body: bytes.Clone(content)})
}

// SnapshotLive implements runtime.Snapshots: Snapshot with the replicas
// running. It is logged as "snapshot-live <tenant>".
func (f *Runtime) SnapshotLive(_ context.Context, tenantID string, w io.Writer) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.failLocked("snapshot", ""); err != nil {
		return err
	}
	t := f.tenants[tenantID]
	if t == nil || len(t.replicas) == 0 {
		return fmt.Errorf("snapshot of %s: no replica to copy through: %w", tenantID, runtime.ErrNotFound)
	}
	f.logLocked("snapshot-live %s", tenantID)
	return t.writeSnapshotLocked(w)
}

// Exec implements runtime.Snapshots: logged as "exec <tenant>/<replica>
// <cmd...>"; OnExec, when set, is what the command does (a test's dump
// writing its file), and its error makes the command fail.
func (f *Runtime) Exec(_ context.Context, tenantID, replica string, cmd []string) (string, error) {
	f.Mu.Lock()
	f.logLocked("exec %s/%s %s", tenantID, replica, strings.Join(cmd, " "))
	if err := f.failLocked("exec", replica); err != nil {
		f.Mu.Unlock()
		return "", fmt.Errorf("%w: %w", runtime.ErrExecFailed, err)
	}
	t := f.tenants[tenantID]
	if t == nil || t.replicas[replica] == nil || !t.replicas[replica].Running {
		f.Mu.Unlock()
		return "", fmt.Errorf("exec in %s: no such running replica: %w", replica, runtime.ErrNotFound)
	}
	hook := f.OnExec
	f.Mu.Unlock()
	if hook != nil {
		if err := hook(tenantID, replica, cmd); err != nil {
			return "", fmt.Errorf("%w: %w", runtime.ErrExecFailed, err)
		}
	}
	return "", nil
}
