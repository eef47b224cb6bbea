package docker

import (
	"context"
	"fmt"
	"math"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// Start starts a container. A running container is already started, and a
// paused one is unpaused.
func (d *Docker) Start(ctx context.Context, id string) error {
	err := d.cli.ContainerStart(ctx, id, container.StartOptions{})
	if err == nil {
		return nil // the engine answers 304 for a running container, which the client takes as success
	}
	// The engine refuses to start a paused container; resume it instead.
	if !cerrdefs.IsNotFound(err) {
		if c, ierr := d.Inspect(ctx, id); ierr == nil && c.Paused {
			return d.Unpause(ctx, id)
		}
	}
	return wrap(err, "start container %s", id)
}

// Stop sends SIGTERM and, after timeout, SIGKILL. A timeout of zero uses the
// container's own stop timeout. A stopped container is already stopped.
func (d *Docker) Stop(ctx context.Context, id string, timeout time.Duration) error {
	err := d.cli.ContainerStop(ctx, id, stopOptions(timeout))
	return wrap(err, "stop container %s", id)
}

// Restart stops (as Stop) and starts a container.
func (d *Docker) Restart(ctx context.Context, id string, timeout time.Duration) error {
	err := d.cli.ContainerRestart(ctx, id, stopOptions(timeout))
	return wrap(err, "restart container %s", id)
}

// Pause freezes a running container's processes; a paused one is already paused.
func (d *Docker) Pause(ctx context.Context, id string) error {
	err := d.cli.ContainerPause(ctx, id)
	// The engine reports "already paused" as a plain server error: look.
	if err != nil && !cerrdefs.IsNotFound(err) {
		if c, ierr := d.Inspect(ctx, id); ierr == nil && c.Paused {
			return nil
		}
	}
	return wrap(err, "pause container %s", id)
}

// Unpause resumes a paused container; a container that is not paused is
// already unpaused.
func (d *Docker) Unpause(ctx context.Context, id string) error {
	err := d.cli.ContainerUnpause(ctx, id)
	// The engine reports "not paused" as a plain server error: look.
	if err != nil && !cerrdefs.IsNotFound(err) {
		if c, ierr := d.Inspect(ctx, id); ierr == nil && !c.Paused {
			return nil
		}
	}
	return wrap(err, "unpause container %s", id)
}

// RemoveContainer kills and removes a container with its anonymous volumes
// (named volumes stay). A missing container is already removed.
func (d *Docker) RemoveContainer(ctx context.Context, id string) error {
	err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	if cerrdefs.IsConflict(err) {
		// Another removal of it is under way (an orphan sweep beside a
		// delete): done once that one is.
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		resC, errC := d.cli.ContainerWait(wctx, id, container.WaitConditionRemoved)
		select {
		case <-resC:
			return nil
		case werr := <-errC:
			if cerrdefs.IsNotFound(werr) {
				return nil
			}
		}
	}
	return wrap(err, "remove container %s", id)
}

// Kill sends a signal ("KILL", "TERM", ...) to a container's main process,
// as an operator's docker kill does: the way to crash a tenant behind the
// reconciler's back, which its tests and the router's rely on.
func (d *Docker) Kill(ctx context.Context, id, signal string) error {
	err := d.cli.ContainerKill(ctx, id, signal)
	return wrap(err, "kill container %s", id)
}

// Wait blocks until the container is not running and returns its exit code.
func (d *Docker) Wait(ctx context.Context, id string) (int, error) {
	resC, errC := d.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-resC:
		if res.Error != nil && res.Error.Message != "" {
			return int(res.StatusCode), fmt.Errorf("wait container %s: %s", id, res.Error.Message)
		}
		return int(res.StatusCode), nil
	case err := <-errC:
		return 0, wrap(err, "wait container %s", id)
	}
}

func stopOptions(timeout time.Duration) container.StopOptions {
	if timeout <= 0 {
		return container.StopOptions{}
	}
	secs := int(math.Ceil(timeout.Seconds()))
	return container.StopOptions{Timeout: &secs}
}
