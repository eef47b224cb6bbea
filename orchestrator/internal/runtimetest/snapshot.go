package runtimetest

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"appfactory/orchestrator/runtime"
)

// snapshotTar makes a snapshot: name -> content, a name ending in "/" a
// directory.
func snapshotTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(files[name])), Uid: 65534, Gid: 65534}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o750, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// snapshot takes a tenant's snapshot and returns its regular files by name.
func (e *env) snapshot(tenant string) map[string]string {
	e.t.Helper()
	files, _ := e.snapshotDirs(tenant)
	return files
}

// snapshotDirs is snapshot with the directories' headers by name too.
func (e *env) snapshotDirs(tenant string) (map[string]string, map[string]*tar.Header) {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	var buf bytes.Buffer
	if err := e.rt.Snapshot(ctx, tenant, &buf); err != nil {
		e.t.Fatalf("snapshot %s: %v", tenant, err)
	}
	out, dirs := map[string]string{}, map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, dirs
		}
		if err != nil {
			e.t.Fatalf("read snapshot: %v", err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			out[strings.TrimPrefix(h.Name, "./")] = string(b)
		case tar.TypeDir:
			dirs[strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = h
		}
	}
}

func (e *env) restore(tenant string, archive []byte) error {
	ctx, cancel := e.ctx()
	defer cancel()
	return e.rt.RestoreSnapshot(ctx, tenant, bytes.NewReader(archive))
}

// testSnapshotRestore: a restored snapshot replaces a volume's content
// (what it does not hold is gone), the replicas are made again by the next
// Apply, and a snapshot reads back what was restored.
func testSnapshotRestore(t *testing.T, e *env) {
	e.apply(e.stack("snap", 1, runtime.ModeStopped))
	first := map[string]string{"data/": "", "data/a.txt": "one", "data/sub/": "", "data/sub/b.txt": "two"}
	if err := e.restore("snap", snapshotTar(t, first)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if o := e.observe("snap"); len(o.Replicas) != 0 || !slices.Equal(o.Volumes, []string{"data"}) {
		t.Fatalf("after a restore: replicas %v, volumes %v; want none and [data]", names(o), o.Volumes)
	}
	e.apply(e.stack("snap", 1, runtime.ModeStopped))
	want := map[string]string{"data/a.txt": "one", "data/sub/b.txt": "two"}
	got, dirs := e.snapshotDirs("snap")
	if !maps.Equal(got, want) {
		t.Fatalf("snapshot after restore = %v, want %v", got, want)
	}
	// The volume's own directory keeps its owner and mode, or an
	// application running as that owner could not write there.
	if d := dirs["data"]; d == nil || d.Uid != 65534 || d.Mode&0o777 != 0o750 {
		t.Errorf("the volume's root after a restore: %+v, want uid 65534 mode 0750", d)
	}
	if err := e.restore("snap", snapshotTar(t, map[string]string{"data/": "", "data/c.txt": "three"})); err != nil {
		t.Fatalf("second restore: %v", err)
	}
	e.apply(e.stack("snap", 1, runtime.ModeRunning))
	e.apply(e.stack("snap", 1, runtime.ModeStopped))
	if got, want := e.snapshot("snap"), map[string]string{"data/c.txt": "three"}; !maps.Equal(got, want) {
		t.Fatalf("snapshot after the second restore = %v, want only %v (the first one's files gone)", got, want)
	}
}

// testSnapshotRefusals: no snapshot of running replicas, no restore into
// paused ones, and a snapshot of a volume the tenant lacks changes nothing.
func testSnapshotRefusals(t *testing.T, e *env) {
	e.apply(e.stack("refuse", 1, runtime.ModeRunning))
	ctx, cancel := e.ctx()
	defer cancel()
	if err := e.rt.Snapshot(ctx, "refuse", io.Discard); !errors.Is(err, runtime.ErrReplicasRunning) {
		t.Errorf("snapshot of a running tenant: %v, want ErrReplicasRunning", err)
	}
	if err := e.restore("refuse", snapshotTar(t, map[string]string{"data/x": "x"})); !errors.Is(err, runtime.ErrReplicasRunning) {
		t.Errorf("restore into a running tenant: %v, want ErrReplicasRunning", err)
	}
	if e.rt.Capabilities().Pause {
		e.apply(e.stack("refuse", 1, runtime.ModePaused))
		e.snapshot("refuse") // a paused tenant's data is at rest too
		if err := e.restore("refuse", snapshotTar(t, map[string]string{"data/x": "x"})); !errors.Is(err, runtime.ErrReplicasRunning) {
			t.Errorf("restore into a paused tenant: %v, want ErrReplicasRunning", err)
		}
	}
	e.apply(e.stack("refuse", 1, runtime.ModeStopped))
	if err := e.restore("refuse", snapshotTar(t, map[string]string{"data/kept": "k"})); err != nil {
		t.Fatal(err)
	}
	e.apply(e.stack("refuse", 1, runtime.ModeStopped))
	if err := e.restore("refuse", snapshotTar(t, map[string]string{"data/new": "n", "other/x": "x"})); !errors.Is(err, runtime.ErrSnapshotVolume) {
		t.Errorf("restore of a foreign volume: %v, want ErrSnapshotVolume", err)
	}
	if err := e.restore("refuse", snapshotTar(t, map[string]string{"data": "a file where the volume is"})); !errors.Is(err, runtime.ErrSnapshotVolume) {
		t.Errorf("restore of a file as the volume: %v, want ErrSnapshotVolume", err)
	}
	if o := e.observe("refuse"); len(o.Replicas) != 3 {
		t.Errorf("a refused restore removed replicas: %v", names(o))
	}
	if got, want := e.snapshot("refuse"), map[string]string{"data/kept": "k"}; !maps.Equal(got, want) {
		t.Errorf("after a refused restore the volume holds %v, want %v", got, want)
	}
}

// testExecLive: a command runs in a running replica (a platform's dump
// hook), a failing one is an error, a replica that does not run has none,
// and a live snapshot leaves the replicas running.
func testExecLive(t *testing.T, e *env) {
	if len(e.o.ExecOK) == 0 {
		t.Skip("no command to run given")
	}
	e.apply(e.stack("exec", 1, runtime.ModeRunning))
	ctx, cancel := e.ctx()
	defer cancel()
	// The replica may still be starting to serve: the command is run
	// again until it succeeds or the call's time is up.
	var err error
	for ctx.Err() == nil {
		if _, err = e.rt.Exec(ctx, "exec", "web-1", e.o.ExecOK); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("exec %v: %v", e.o.ExecOK, err)
	}
	if _, err := e.rt.Exec(ctx, "exec", "web-1", e.o.ExecFail); err == nil {
		t.Errorf("exec %v succeeded, want an error", e.o.ExecFail)
	}
	if _, err := e.rt.Exec(ctx, "exec", "web-9", e.o.ExecOK); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("exec in a replica that does not exist: %v, want ErrNotFound", err)
	}
	if err := e.rt.SnapshotLive(ctx, "exec", io.Discard); err != nil {
		t.Fatalf("live snapshot: %v", err)
	}
	all(t, e.observe("exec"), "running after a live snapshot", func(rp runtime.Replica) bool { return rp.Running })
	e.apply(e.stack("exec", 1, runtime.ModeStopped))
	if _, err := e.rt.Exec(ctx, "exec", "web-1", e.o.ExecOK); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("exec in a stopped replica: %v, want ErrNotFound", err)
	}
}
