// Package monitor watches the engine: Docker events feed the event log and
// wake the reconciler, periodic stats samples feed the charts, the
// capacity probe says how many more tenants the host holds, and Logs
// merges a tenant's container logs.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/runtime"
)

// EventKindContainer is the kind of the tenant events the monitor records.
const EventKindContainer = "container"

// eventSource is the part of the runtime the monitor listens to.
type eventSource interface {
	Events(ctx context.Context) (<-chan runtime.Event, <-chan error)
}

// eventRecorder writes a tenant's event log.
type eventRecorder interface {
	AddEvent(ctx context.Context, tenantID, kind, message string) error
}

// waker is the part of the reconciler the monitor needs: an event of a
// tenant wakes its pass early.
type waker interface {
	Wake(tenantID string)
}

// Monitor turns the engine's events about this instance's containers into
// tenant events, and wakes the reconciler when a container stops on its
// own. Like the reconciler it never relies on having seen every event:
// after a lost connection it asks for a full pass.
type Monitor struct {
	Events   eventSource
	Recorder eventRecorder
	Waker    waker
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reconnecting (250 ms
	// and 30 s by default); a connection that lasted a minute resets it.
	MinBackoff, MaxBackoff time.Duration
}

// recordedActions are the container actions written to a tenant's log;
// others (create, attach, exec_*, ...) only inform the reconciler, if at all.
var recordedActions = map[string]bool{
	"start": true, "die": true, "oom": true, "stop": true, "kill": true,
	"pause": true, "unpause": true, "health_status": true, "destroy": true,
}

// Run listens until ctx ends, reconnecting with backoff when the stream
// breaks (the engine restarted, the socket went away).
func (m *Monitor) Run(ctx context.Context) error {
	minB, maxB := m.MinBackoff, m.MaxBackoff
	if minB <= 0 {
		minB = 250 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 30 * time.Second
	}
	backoff := minB
	for reconnect := false; ; reconnect = true {
		started := time.Now()
		err := m.watch(ctx, reconnect)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > time.Minute {
			backoff = minB
		}
		m.logger().Warn("docker events stream ended; reconnecting", slog.Any("err", err), slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxB)
	}
}

// watch subscribes and handles events until the stream fails. After a
// reconnection it wakes the reconciler for every tenant, since whatever
// happened while nobody listened is unknown.
func (m *Monitor) watch(ctx context.Context, reconnect bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, errs := m.Events.Events(ctx)
	if reconnect && m.Waker != nil {
		m.Waker.Wake("")
	}
	for {
		select {
		case e, ok := <-events:
			if !ok {
				select {
				case err := <-errs:
					return err
				default:
					return errors.New("docker events: stream closed")
				}
			}
			m.handle(ctx, e)
		case err := <-errs:
			return err
		}
	}
}

// handle records one event and wakes the reconciler when the tenant may
// need a repair.
func (m *Monitor) handle(ctx context.Context, e runtime.Event) {
	tenantID := e.Tenant
	if e.Type != "container" || tenantID == "" {
		return
	}
	action, _, _ := strings.Cut(e.Action, ":")
	if !recordedActions[action] {
		return
	}
	m.Metrics.ContainerEvent(action)
	msg := EventMessage(e)
	if m.Recorder != nil {
		if err := m.Recorder.AddEvent(ctx, tenantID, EventKindContainer, msg); err != nil && ctx.Err() == nil {
			m.logger().Error("record container event", slog.String("tenant", tenantID), slog.Any("err", err))
		}
	}
	m.logger().Debug("container event", slog.String("tenant", tenantID), slog.String("event", msg))
	switch action {
	case "die", "oom", "destroy":
		// Whether the stop was wanted (a passivation) or not (a crash, a
		// kill behind our back) is for the reconciler to decide against the
		// desired state: it restarts the container only if it should run.
		if m.Waker != nil {
			m.Waker.Wake(tenantID)
		}
	case "health_status":
		if strings.HasSuffix(e.Action, "unhealthy") && m.Waker != nil {
			m.Waker.Wake(tenantID)
		}
	}
}

// EventMessage writes an engine event in words, naming the container as
// its stack does ("web-1" for af-<instance>-acme-web-1).
func EventMessage(e runtime.Event) string {
	name := e.Replica
	if name == "" {
		name = strings.TrimPrefix(e.Name, "/")
	}
	action, detail, _ := strings.Cut(e.Action, ":")
	detail = strings.TrimSpace(detail)
	switch action {
	case "start":
		return fmt.Sprintf("container %s started", name)
	case "die":
		if e.ExitCode == "0" {
			return fmt.Sprintf("container %s exited (exit 0)", name)
		}
		if e.ExitCode == "" {
			return fmt.Sprintf("container %s died", name)
		}
		return fmt.Sprintf("container %s died (exit %s)", name, e.ExitCode)
	case "oom":
		return fmt.Sprintf("container %s ran out of memory", name)
	case "stop":
		return fmt.Sprintf("container %s stopped", name)
	case "kill":
		return fmt.Sprintf("container %s was sent %s", name, signalName(e.Signal))
	case "pause":
		return fmt.Sprintf("container %s paused", name)
	case "unpause":
		return fmt.Sprintf("container %s resumed", name)
	case "destroy":
		return fmt.Sprintf("container %s removed", name)
	case "health_status":
		if detail == "" {
			detail = "unknown"
		}
		return fmt.Sprintf("container %s is %s", name, detail)
	}
	return fmt.Sprintf("container %s: %s", name, e.Action)
}

// signalName names the signals a container is usually sent.
func signalName(sig string) string {
	names := map[string]string{"1": "SIGHUP", "2": "SIGINT", "3": "SIGQUIT", "6": "SIGABRT", "9": "SIGKILL", "15": "SIGTERM"}
	if n, ok := names[sig]; ok {
		return n
	}
	if sig == "" {
		return "a signal"
	}
	return "signal " + sig
}

func (m *Monitor) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
