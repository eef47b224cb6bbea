package handlers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/orchestrator/runtime"
)

// Log tails are bounded: the default and the most lines one request reads
// per container, the longest line kept, and how long a live tail may last.
const (
	defaultLogTail = 200
	maxLogTail     = 2000
	maxLogLine     = 4096
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

// logLine is one line of a container's log with its time.
type logLine struct {
	at   time.Time
	text string
}

// readLogTail reads the last tail lines of each container and merges them
// in time order, prefixing each with "name | " when prefix is set; the
// result holds the last tail lines of the merge.
func (h *Handlers) readLogTail(ctx context.Context, cs []tenantContainer, tail int, prefix bool) ([]string, error) {
	var all []logLine
	for _, c := range cs {
		rc, err := h.Monitoring.Runtime.Logs(ctx, c.ID, runtime.LogOptions{Tail: tail, Timestamps: true})
		if err != nil {
			return nil, err
		}
		err = eachLine(rc, func(line string) {
			ts, text, _ := strings.Cut(line, " ")
			at, _ := time.Parse(time.RFC3339Nano, ts)
			if prefix {
				text = c.Name + " | " + text
			}
			all = append(all, logLine{at: at, text: text})
		})
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	if len(all) > tail {
		all = all[len(all)-tail:]
	}
	out := make([]string, len(all))
	for i, l := range all {
		out[i] = l.text
	}
	return out, nil
}

// eachLine calls fn for each line of r, without its line ending, cutting
// lines longer than maxLogLine.
func eachLine(r io.Reader, fn func(string)) error {
	br := bufio.NewReaderSize(r, maxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			fn(strings.TrimRight(string(line), "\r\n"))
		}
		for err == bufio.ErrBufferFull { // the rest of an over-long line is dropped
			_, err = br.ReadSlice('\n')
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// logSource is what a log view reads: the containers the request selects
// (query "service"), how many lines of each, and whether lines need the
// container's name in front (more than one container).
type logSource struct {
	containers []tenantContainer
	tail       int
	prefix     bool
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
	return logSource{containers: cs, tail: tail, prefix: sel == "" || len(cs) > 1}, nil
}

// apiTenantLogs answers the tail of a tenant's logs as plain text.
func (h *Handlers) apiTenantLogs(c echo.Context) error {
	src, err := h.logSource(c.Request().Context(), c)
	if err != nil {
		return err
	}
	lines, err := h.readLogTail(c.Request().Context(), src.containers, src.tail, src.prefix)
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
	cs, tail, prefix := src.containers, src.tail, src.prefix
	lines := make(chan string, 64)
	done := make(chan struct{}, len(cs))
	for _, tc := range cs {
		rc, err := h.Monitoring.Runtime.Logs(ctx, tc.ID, runtime.LogOptions{Tail: tail, Follow: true})
		if err != nil {
			return err
		}
		go func() {
			defer rc.Close()
			defer func() { done <- struct{}{} }()
			_ = eachLine(rc, func(line string) {
				// A carriage return would end the event's data line early.
				line = strings.ReplaceAll(line, "\r", "")
				if prefix {
					line = tc.Name + " | " + line
				}
				select {
				case lines <- line:
				case <-ctx.Done():
				}
			})
		}()
		// Close the reader when the request ends, which ends the goroutine.
		context.AfterFunc(ctx, func() { rc.Close() })
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	w.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	open := len(cs)
	for open > 0 {
		select {
		case line := <-lines:
			fmt.Fprintf(w, "data: %s\n\n", line)
			// Send what else is waiting before flushing.
			for more := true; more; {
				select {
				case line := <-lines:
					fmt.Fprintf(w, "data: %s\n\n", line)
				default:
					more = false
				}
			}
			w.Flush()
		case <-done:
			open--
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			w.Flush()
		case <-ctx.Done():
			return nil
		}
	}
	// Lines sent before the last reader finished may still be queued.
	for more := true; more; {
		select {
		case line := <-lines:
			fmt.Fprintf(w, "data: %s\n\n", line)
		default:
			more = false
		}
	}
	fmt.Fprint(w, "event: end\ndata: the containers stopped\n\n")
	w.Flush()
	return nil
}
