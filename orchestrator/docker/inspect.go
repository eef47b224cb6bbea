package docker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

// Inspect returns a container's state; a missing container gives an error
// matching runtime.ErrNotFound.
func (d *Docker) Inspect(ctx context.Context, id string) (Container, error) {
	r, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return Container{}, wrap(err, "inspect container %s", id)
	}
	c := Container{IPs: map[string]string{}}
	if b := r.ContainerJSONBase; b != nil {
		c.ID, c.Name, c.ImageID, c.RestartCount = b.ID, strings.TrimPrefix(b.Name, "/"), b.Image, b.RestartCount
		if s := b.State; s != nil {
			c.State, c.Running, c.Paused, c.ExitCode, c.OOMKilled = string(s.Status), s.Running, s.Paused, s.ExitCode, s.OOMKilled
			c.StartedAt, c.FinishedAt = engineTime(s.StartedAt), engineTime(s.FinishedAt)
			if s.Health != nil {
				c.Health = string(s.Health.Status)
			}
		}
	}
	if r.Config != nil {
		c.Image, c.Labels = r.Config.Image, r.Config.Labels
	}
	if r.NetworkSettings != nil {
		c.IPs = endpointIPs(r.NetworkSettings.Networks)
	}
	return c, nil
}

// InspectRaw returns the engine's own inspect document of a container (JSON),
// for diagnostics and for checks of what Container leaves out (host
// configuration, mounts); its fields are the engine's, not a contract.
func (d *Docker) InspectRaw(ctx context.Context, id string) ([]byte, error) {
	_, raw, err := d.cli.ContainerInspectWithRaw(ctx, id, false)
	if err != nil {
		return nil, wrap(err, "inspect container %s", id)
	}
	return raw, nil
}

// ListContainers lists containers carrying all the given labels, running
// ones only unless all is set. A listing has no start and finish times.
func (d *Docker) ListContainers(ctx context.Context, labels map[string]string, all bool) ([]Container, error) {
	list, err := d.cli.ContainerList(ctx, container.ListOptions{All: all, Filters: labelFilters(labels)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]Container, 0, len(list))
	for _, s := range list {
		c := Container{
			ID:      s.ID,
			Image:   s.Image,
			ImageID: s.ImageID,
			Labels:  s.Labels,
			State:   string(s.State),
			Running: s.State == container.StateRunning,
			Paused:  s.State == container.StatePaused,
			IPs:     map[string]string{},
		}
		if len(s.Names) > 0 {
			c.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		c.ExitCode, c.Health = parseStatus(s.Status)
		if s.NetworkSettings != nil {
			c.IPs = endpointIPs(s.NetworkSettings.Networks)
		}
		out = append(out, c)
	}
	return out, nil
}

func endpointIPs(eps map[string]*network.EndpointSettings) map[string]string {
	ips := make(map[string]string, len(eps))
	for name, ep := range eps {
		if ep != nil && ep.IPAddress != "" {
			ips[name] = ep.IPAddress
		}
	}
	return ips
}

// engineTime parses the engine's RFC 3339 times; its zero ("0001-01-01T00:00:00Z") stays zero.
func engineTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// parseStatus reads the exit code and health out of a listing's human status,
// such as "Exited (137) 5 seconds ago" or "Up 3 minutes (health: starting)":
// the listing carries them nowhere else.
func parseStatus(status string) (exitCode int, health string) {
	if rest, ok := strings.CutPrefix(status, "Exited ("); ok {
		if code, _, ok := strings.Cut(rest, ")"); ok {
			if n, err := strconv.Atoi(code); err == nil {
				exitCode = n
			}
		}
	}
	switch {
	case strings.HasSuffix(status, "(healthy)"):
		health = "healthy"
	case strings.HasSuffix(status, "(unhealthy)"):
		health = "unhealthy"
	case strings.HasSuffix(status, "(health: starting)"):
		health = "starting"
	}
	return exitCode, health
}
