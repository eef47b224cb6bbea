package runtime

import (
	"context"
	"errors"
	"io"
)

// Snapshots copy a tenant's named volumes out and back in, for backups.
// The archive is a tar in which each volume is a top-level directory named
// for it (a Stack.Volumes name), its content below.
type Snapshots interface {
	// Snapshot writes a tar of every volume of the tenant to w. The
	// replicas must be stopped or paused (ErrReplicasRunning otherwise),
	// so the copy is of data at rest; at least one replica must exist,
	// for the image the copy is made through.
	Snapshot(ctx context.Context, tenant string, w io.Writer) error
	// RestoreSnapshot replaces the content of the tenant's volumes with a
	// Snapshot's tar: whatever the tar does not hold is gone. The replicas
	// must be stopped (ErrReplicasRunning otherwise); they are removed (a
	// volume in use cannot be made anew) and the next Apply creates them
	// again. A volume of the tar the tenant does not have is refused
	// before anything changes (ErrSnapshotVolume).
	RestoreSnapshot(ctx context.Context, tenant string, r io.Reader) error
	// SnapshotLive is Snapshot of a tenant whose replicas keep running,
	// after its platform's dump hook (Exec) has left a consistent copy of
	// its data on a volume.
	SnapshotLive(ctx context.Context, tenant string, w io.Writer) error
	// Exec runs cmd in a running replica ("<service>-<n>") of the tenant
	// and returns what it wrote (stdout and stderr, the first 64 KiB); an
	// exit code other than 0 is an error matching ErrExecFailed.
	Exec(ctx context.Context, tenant, replica string, cmd []string) (string, error)
}

var (
	// ErrReplicasRunning is matched by a snapshot refused because replicas run.
	ErrReplicasRunning = errors.New("the deployment's replicas are running")
	// ErrSnapshotVolume is matched by a snapshot holding what is not a volume of the tenant.
	ErrSnapshotVolume = errors.New("the snapshot holds a volume the deployment does not have")
	// ErrExecFailed is matched by a command run by Exec that exited non-zero.
	ErrExecFailed = errors.New("the command failed")
)
