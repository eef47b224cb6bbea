package handlers

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/orchestrator/monitor"
)

// Log tails are bounded: the default and the most lines one request reads
// per container, and how long a live tail may last (monitor.MaxLogLine
// bounds a line).
const (
	defaultLogTail = 200
	maxLogTail     = 2000
	maxLogStream   = 30 * time.Minute
)

// tenantContainer is a container of a tenant as the log endpoints name it.
type tenantContainer struct {
	ID      string
	Name    string // short: web-1
	Service string
}

// tenantContainers lists a tenant's containers, sorted by short name, and
// keeps those selected by sel: a short name ("web-1"), a service ("web"),
// or "" for all.
func (h *Handlers) tenantContainers(ctx context.Context, tenantID, sel string) ([]tenantContainer, error) {
	obs, err := h.Monitoring.Runtime.Observe(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []tenantContainer
	for _, c := range obs.Replicas {
		tc := tenantContainer{ID: c.ID, Service: c.Service, Name: c.Name}
		if sel == "" || sel == tc.Name || sel == tc.Service {
			out = append(out, tc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if sel != "" && len(out) == 0 {
		return nil, apperr.FieldError(apperr.NotFound, "service", "No container %q in this deployment.", sel)
	}
	return out, nil
}

// logTail reads the tail parameter: the default when absent, at most maxLogTail.
func logTail(c echo.Context) (int, error) {
	s := c.QueryParam("tail")
	if s == "" {
		return defaultLogTail, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, apperr.FieldError(apperr.Invalid, "tail", "tail must be a positive number of lines.")
	}
	return min(n, maxLogTail), nil
}

// logSource is what a log view reads: the containers the request selects
// (query "service"), how many lines of each, and the logs reader, which
// puts the container's name in front of lines when there are more than one.
type logSource struct {
	containers []monitor.LogSource
	tail       int
	logs       monitor.Logs
}

func (h *Handlers) logSource(ctx context.Context, c echo.Context) (logSource, error) {
	t, err := h.visibleTenant(c)
	if err != nil {
		return logSource{}, err
	}
	tail, err := logTail(c)
	if err != nil {
		return logSource{}, err
	}
	sel := c.QueryParam("service")
	cs, err := h.tenantContainers(ctx, t.ID, sel)
	if err != nil {
		return logSource{}, err
	}
	src := logSource{tail: tail, logs: monitor.Logs{Runtime: h.Monitoring.Runtime, Prefix: sel == "" || len(cs) > 1}}
	for _, tc := range cs {
		src.containers = append(src.containers, monitor.LogSource{ID: tc.ID, Name: tc.Name})
	}
	return src, nil
}

// apiTenantLogs answers the tail of a tenant's logs as plain text.
func (h *Handlers) apiTenantLogs(c echo.Context) error {
	src, err := h.logSource(c.Request().Context(), c)
	if err != nil {
		return err
	}
	lines, err := src.logs.Tail(c.Request().Context(), src.containers, src.tail)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return c.String(http.StatusOK, b.String())
}

// tenantLogStream is a server-sent event stream of a tenant's logs: the
// tail, then new lines as they come, until the containers stop, the client
// goes away or maxLogStream passes. An "end" event says the stream is over
// (so the browser does not reconnect and repeat the tail).
func (h *Handlers) tenantLogStream(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), maxLogStream)
	defer cancel()
	src, err := h.logSource(ctx, c)
	if err != nil {
		return err
	}
	stream, err := src.logs.Follow(ctx, src.containers, src.tail)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	w.Flush()
	stream.Run(ctx, func(f monitor.LogFrame) {
		for _, line := range f.Lines {
			fmt.Fprintf(w, "data: %s\n\n", line)
		}
		if f.Ping {
			fmt.Fprint(w, ": ping\n\n")
		}
		if f.End {
			fmt.Fprint(w, "event: end\ndata: the containers stopped\n\n")
		}
		w.Flush()
	})
	return nil
}
