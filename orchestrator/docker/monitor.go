package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/pkg/stdcopy"

	"appfactory/orchestrator/runtime"
)

// Events streams events about containers, networks and volumes carrying all
// the given labels, until ctx ends or the connection fails; then the error
// channel gets one error. The engine puts labels only on container events,
// so with labels given only container events arrive.
func (d *Docker) Events(ctx context.Context, labels map[string]string) (<-chan EngineEvent, <-chan error) {
	f := labelFilters(labels)
	for _, t := range []events.Type{events.ContainerEventType, events.NetworkEventType, events.VolumeEventType} {
		f.Add("type", string(t))
	}
	msgs, errs := d.cli.Events(ctx, events.ListOptions{Filters: f})
	out := make(chan EngineEvent, 64)
	outErr := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m := <-msgs:
				select {
				case out <- eventFrom(m):
				case <-ctx.Done():
					outErr <- ctx.Err()
					return
				}
			case err := <-errs:
				outErr <- fmt.Errorf("docker events: %w", err)
				return
			}
		}
	}()
	return out, outErr
}

func eventFrom(m events.Message) EngineEvent {
	e := EngineEvent{
		Type:     string(m.Type),
		Action:   string(m.Action),
		ID:       m.Actor.ID,
		Name:     m.Actor.Attributes["name"],
		ExitCode: m.Actor.Attributes["exitCode"],
		Labels:   make(map[string]string, len(m.Actor.Attributes)),
		Time:     time.Unix(0, m.TimeNano),
	}
	if m.TimeNano == 0 {
		e.Time = time.Unix(m.Time, 0)
	}
	for k, v := range m.Actor.Attributes {
		if k != "name" && k != "image" && k != "exitCode" {
			e.Labels[k] = v
		}
	}
	return e
}

// Stats samples a container once. The engine waits for two of its
// one-second samples to compute CPU, so a call takes one to two seconds:
// sample many containers concurrently, never one after another.
func (d *Docker) Stats(ctx context.Context, id string) (runtime.Stats, error) {
	resp, err := d.cli.ContainerStats(ctx, id, false)
	return readStats(id, resp, err)
}

// StatsOneShot samples a container without waiting for the engine's next
// sample (about a second sooner than Stats), so CPUPercent stays zero:
// compute it with CPUPercentBetween from two samples.
func (d *Docker) StatsOneShot(ctx context.Context, id string) (runtime.Stats, error) {
	resp, err := d.cli.ContainerStatsOneShot(ctx, id)
	return readStats(id, resp, err)
}

// readStats decodes one stats answer of the engine for container id.
func readStats(id string, resp container.StatsResponseReader, err error) (runtime.Stats, error) {
	if err != nil {
		return runtime.Stats{}, wrap(err, "stats of container %s", id)
	}
	defer resp.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return runtime.Stats{}, fmt.Errorf("stats of container %s: %w", id, err)
	}
	return statsFrom(s), nil
}

func statsFrom(s container.StatsResponse) runtime.Stats {
	online := int(s.CPUStats.OnlineCPUs)
	if online == 0 {
		online = len(s.CPUStats.CPUUsage.PercpuUsage)
	}
	out := runtime.Stats{
		MemBytes:   int64(memoryUsage(s.MemoryStats)),
		MemLimit:   int64(s.MemoryStats.Limit),
		Pids:       int64(s.PidsStats.Current),
		At:         s.Read,
		CPUTotalNs: s.CPUStats.CPUUsage.TotalUsage,
		SystemNs:   s.CPUStats.SystemUsage,
		OnlineCPUs: online,
	}
	if s.PreCPUStats.SystemUsage > 0 {
		out.CPUPercent = runtime.CPUPercentBetween(runtime.Stats{CPUTotalNs: s.PreCPUStats.CPUUsage.TotalUsage, SystemNs: s.PreCPUStats.SystemUsage}, out)
	}
	return out
}

// memoryUsage leaves out the inactive page cache, which the kernel reclaims
// before it kills anything (cgroup v1 and v2 name it differently).
func memoryUsage(m container.MemoryStats) uint64 {
	if v, ok := m.Stats["total_inactive_file"]; ok && v < m.Usage {
		return m.Usage - v
	}
	if v := m.Stats["inactive_file"]; v < m.Usage {
		return m.Usage - v
	}
	return m.Usage
}

// Logs returns a container's standard output and error as plain text: the
// last opts.Tail lines (all when zero), and, with opts.Follow, what comes
// after until ctx ends (runtime.Monitor).
func (d *Docker) Logs(ctx context.Context, id string, opts runtime.LogOptions) (io.ReadCloser, error) {
	o := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps, Tail: "all"}
	if opts.Tail > 0 {
		o.Tail = strconv.Itoa(opts.Tail)
	}
	if !opts.Since.IsZero() {
		o.Since = strconv.FormatInt(opts.Since.Unix(), 10)
	}
	rc, err := d.cli.ContainerLogs(ctx, id, o)
	if err != nil {
		return nil, wrap(err, "logs of container %s", id)
	}
	// Tenant containers have no TTY, so the engine multiplexes both streams
	// with frame headers: strip them.
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	return &logReader{PipeReader: pr, body: rc}, nil
}

// logReader closes the engine's response along with the pipe, which ends
// the copying goroutine.
type logReader struct {
	*io.PipeReader
	body io.Closer
}

// Close implements io.Closer.
func (l *logReader) Close() error {
	err := l.body.Close()
	_ = l.PipeReader.Close()
	return err
}
