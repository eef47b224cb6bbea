package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"appfactory/orchestrator/runtime"
)

// maxExecOutput bounds what Exec keeps of a command's output.
const maxExecOutput = 64 << 10

// Exec implements runtime.Snapshots: the command runs in the replica as
// its own user, its output demultiplexed and kept up to maxExecOutput.
func (r *Runtime) Exec(ctx context.Context, tenant, replica string, cmd []string) (string, error) {
	if len(cmd) == 0 {
		return "", fmt.Errorf("exec in %s: no command", replica)
	}
	cs, err := r.ListContainers(ctx, map[string]string{LabelTenant: tenant, LabelInstance: r.opts.Instance}, false)
	if err != nil {
		return "", err
	}
	var id string
	for _, c := range cs {
		if ReplicaName(c.Labels) == replica && c.Running && !c.Paused {
			id = c.ID
		}
	}
	if id == "" {
		return "", fmt.Errorf("exec in %s: no such running replica: %w", replica, runtime.ErrNotFound)
	}
	ex, err := r.cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", wrap(err, "exec in %s", replica)
	}
	att, err := r.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", wrap(err, "exec in %s", replica)
	}
	defer att.Close()
	var out bytes.Buffer
	lim := &limitedWriter{w: &out, n: maxExecOutput}
	if _, err := stdcopy.StdCopy(lim, lim, att.Reader); err != nil {
		return out.String(), fmt.Errorf("exec in %s: read output: %w", replica, err)
	}
	insp, err := r.cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return out.String(), wrap(err, "exec in %s", replica)
	}
	if insp.ExitCode != 0 {
		return out.String(), fmt.Errorf("exec in %s: exit code %d: %w", replica, insp.ExitCode, runtime.ErrExecFailed)
	}
	return out.String(), nil
}

// limitedWriter keeps the first n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(p), nil
}
