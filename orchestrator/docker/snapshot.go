package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"appfactory/orchestrator/runtime"
)

// LabelDoor marks the door container a snapshot is copied through:
// "<instance>/<tenant>". It carries no tenant label, so no observation
// counts it as a replica.
const LabelDoor = "appfactory.door"

// doorRoot is where the door container mounts each volume, at
// doorRoot/<volume>. The engine copies into and out of a container that
// was never started, volumes included, so the door needs no image of its
// own: it is made of the tenant's.
const doorRoot = "/af-door"

// Snapshot implements runtime.Snapshots: one copy out of the door
// container, whose entries "af-door/<volume>/..." become "<volume>/...".
func (r *Runtime) Snapshot(ctx context.Context, tenant string, w io.Writer) error {
	return r.snapshot(ctx, tenant, w, false)
}

// SnapshotLive implements runtime.Snapshots: the same copy, replicas running.
func (r *Runtime) SnapshotLive(ctx context.Context, tenant string, w io.Writer) error {
	return r.snapshot(ctx, tenant, w, true)
}

func (r *Runtime) snapshot(ctx context.Context, tenant string, w io.Writer, live bool) error {
	have, err := r.listTenant(ctx, tenant)
	if err != nil {
		return err
	}
	if !live {
		if err := stillReplicas(have, true); err != nil {
			return err
		}
	}
	door, err := r.openDoor(ctx, tenant, have)
	if err != nil {
		return err
	}
	defer r.closeDoor(door)
	rc, _, err := r.cli.CopyFromContainer(ctx, door, doorRoot)
	if err != nil {
		return wrap(err, "copy the volumes of %s", tenant)
	}
	defer rc.Close()
	tr, tw := tar.NewReader(rc), tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read the volumes of %s: %w", tenant, err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), path.Base(doorRoot)+"/")
		if name == "" || name == h.Name {
			continue // the door's own directory
		}
		h.Name = name
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
	}
	return tw.Close()
}

// RestoreSnapshot implements runtime.Snapshots. Extracting a tar over a
// directory only adds and overwrites, and a volume's mount point cannot be
// removed, so each volume is made anew (its replicas removed first, as the
// engine refuses to remove a volume in use) and filled through the door.
func (r *Runtime) RestoreSnapshot(ctx context.Context, tenant string, in io.Reader) error {
	have, err := r.listTenant(ctx, tenant)
	if err != nil {
		return err
	}
	if err := stillReplicas(have, false); err != nil {
		return err
	}
	byName := map[string]Volume{}
	for _, v := range have.volumes {
		if name := v.Labels[LabelComposeVolume]; name != "" {
			byName[name] = v
		}
	}
	// The snapshot is checked whole before anything changes, so it is
	// spooled: a volume is then read from it once.
	spool, err := os.CreateTemp("", "af-restore-*.tar")
	if err != nil {
		return fmt.Errorf("restore %s: %w", tenant, err)
	}
	defer func() { _ = spool.Close(); _ = os.Remove(spool.Name()) }()
	if _, err := io.Copy(spool, in); err != nil {
		return fmt.Errorf("restore %s: read the snapshot: %w", tenant, err)
	}
	if err := checkSnapshot(spool, byName); err != nil {
		return err
	}
	door, err := r.openDoor(ctx, tenant, have)
	if err != nil {
		return err
	}
	for _, c := range have.containers {
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			r.closeDoor(door)
			return err
		}
	}
	// The door holds the volumes too: it goes, the volumes are made anew,
	// and a new door mounts them.
	r.closeDoor(door)
	for _, v := range byName {
		if err := r.RemoveVolume(ctx, v.Name); err != nil {
			return err
		}
		if err := r.EnsureVolume(ctx, VolumeSpec{Name: v.Name, Labels: v.Labels}); err != nil {
			return err
		}
	}
	if door, err = r.openDoor(ctx, tenant, have); err != nil {
		return err
	}
	defer r.closeDoor(door)
	// Into the door's root, so that each volume's own entry gives the new
	// volume its owner and mode (an entry "." of a copy into the volume
	// itself is ignored, and an application whose volume root is not its
	// own cannot write there). The door's root filesystem is writable for
	// this; checkSnapshot let nothing through but the volumes.
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(rebase(spool, pw, path.Base(doorRoot)+"/")) }()
	err = r.cli.CopyToContainer(ctx, door, "/", pr, container.CopyToContainerOptions{})
	_ = pr.CloseWithError(io.ErrClosedPipe)
	return wrap(err, "restore the volumes of %s", tenant)
}

// rebase copies a tar, each entry's name prefixed.
func rebase(in io.Reader, out io.Writer, prefix string) error {
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		h.Name = prefix + strings.TrimPrefix(h.Name, "./")
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// checkSnapshot reads a spooled snapshot through: every entry is below a
// volume the tenant has, with no way out of it.
func checkSnapshot(spool *os.File, volumes map[string]Volume) error {
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tr := tar.NewReader(spool)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the snapshot: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		v, rest, _ := strings.Cut(name, "/")
		if _, ok := volumes[v]; !ok || path.Clean(name) != strings.TrimSuffix(name, "/") || strings.HasPrefix(path.Clean(name), "..") {
			return fmt.Errorf("entry %q: %w", h.Name, runtime.ErrSnapshotVolume)
		}
		if rest == "" && h.Typeflag != tar.TypeDir {
			return fmt.Errorf("entry %q is not a directory: %w", h.Name, runtime.ErrSnapshotVolume)
		}
	}
}

// stillReplicas refuses a snapshot while a replica runs (paused ones are
// still enough for a copy out, when paused is true).
func stillReplicas(have *engineState, paused bool) error {
	for _, c := range have.containers {
		if c.Running && !(paused && c.Paused) || c.State == "restarting" {
			return fmt.Errorf("replica %s is %s: %w", ReplicaName(c.Labels), c.State, runtime.ErrReplicasRunning)
		}
	}
	return nil
}

// openDoor creates (never starts) the door container of a tenant: the
// image of one of its replicas, every volume mounted at doorRoot/<volume>,
// no network. A door left by a call cut short is replaced.
func (r *Runtime) openDoor(ctx context.Context, tenant string, have *engineState) (string, error) {
	var ref Container
	for _, name := range sortedKeys(have.containers) {
		ref = have.containers[name]
		break
	}
	if ref.ID == "" {
		return "", fmt.Errorf("snapshot of %s: no replica to copy through: %w", tenant, runtime.ErrNotFound)
	}
	slug := strings.TrimPrefix(ref.Labels[LabelComposeProject], "af-")
	labels := map[string]string{LabelDoor: r.opts.Instance + "/" + tenant}
	for k, v := range ref.Labels {
		if strings.HasPrefix(k, "appfactory.test") {
			labels[k] = v
		}
	}
	image := ref.ImageID
	if image == "" {
		image = ref.Image
	}
	name := NamePrefix(r.opts.Instance, slug) + "-door"
	var mounts []mount.Mount
	for _, v := range sortedKeys(have.volumes) {
		// A volume the engine made for a mount, without its stack name, is
		// none of the stack's: it is not copied.
		if vol := have.volumes[v].Labels[LabelComposeVolume]; vol != "" {
			mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: v, Target: doorRoot + "/" + vol})
		}
	}
	if err := r.RemoveContainer(ctx, name); err != nil {
		return "", err
	}
	// Never started, so nothing runs in it: no network, no hardening to
	// keep, and a writable root for the copy in.
	resp, err := r.cli.ContainerCreate(ctx, &container.Config{Image: image, Labels: labels, NetworkDisabled: true},
		&container.HostConfig{NetworkMode: "none", Mounts: mounts}, nil, nil, name)
	if err != nil {
		return "", wrap(err, "snapshot of %s: create the door", tenant)
	}
	return resp.ID, nil
}

// closeDoor removes the door, even when the caller's context has ended.
func (r *Runtime) closeDoor(id string) {
	_ = r.RemoveContainer(context.Background(), id)
}
