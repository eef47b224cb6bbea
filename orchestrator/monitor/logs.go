package monitor

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"time"

	"appfactory/orchestrator/runtime"
)

// MaxLogLine is the longest log line kept; the rest of a longer one is dropped.
const MaxLogLine = 4096

// pingEvery is how often a quiet log stream says it is still there.
const pingEvery = 20 * time.Second

// logReader is the part of the runtime the logs read.
type logReader interface {
	Logs(ctx context.Context, replicaID string, opts runtime.LogOptions) (io.ReadCloser, error)
}

// LogSource is a container whose log is read, and its short name (web-1).
type LogSource struct {
	ID, Name string
}

// Logs reads the logs of a tenant's containers, merged into one: the tail,
// or a live stream.
type Logs struct {
	Runtime logReader
	// Prefix puts "name | " in front of each line (more than one container).
	Prefix bool
	// PingEvery overrides how often a quiet stream pings (tests).
	PingEvery time.Duration
}

// Tail reads the last tail lines of each container and merges them in time
// order; the result holds the last tail lines of the merge.
func (l Logs) Tail(ctx context.Context, cs []LogSource, tail int) ([]string, error) {
	type line struct {
		at   time.Time
		text string
	}
	var all []line
	for _, c := range cs {
		rc, err := l.Runtime.Logs(ctx, c.ID, runtime.LogOptions{Tail: tail, Timestamps: true})
		if err != nil {
			return nil, err
		}
		err = EachLine(rc, func(s string) {
			ts, text, _ := strings.Cut(s, " ")
			at, _ := time.Parse(time.RFC3339Nano, ts)
			all = append(all, line{at: at, text: l.prefixed(c, text)})
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

func (l Logs) prefixed(c LogSource, line string) string {
	if l.Prefix {
		return c.Name + " | " + line
	}
	return line
}

// EachLine calls fn for each line of r, without its line ending, cutting
// lines longer than MaxLogLine.
func EachLine(r io.Reader, fn func(string)) error {
	br := bufio.NewReaderSize(r, MaxLogLine)
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

// LogFrame is what a live stream hands its writer at once: lines, a ping
// when the stream is quiet, or the end (after the last lines) when every
// container's log ended. The writer sends the frame, then flushes.
type LogFrame struct {
	Lines []string
	Ping  bool
	End   bool
}

// LogStream is a live, merged stream of containers' logs, opened by Follow.
type LogStream struct {
	lines chan string
	done  chan struct{}
	open  int
	ping  time.Duration
}

// Follow opens a live stream of the containers' logs from their last tail
// lines, which ends with ctx. A container whose log cannot be opened
// fails it before anything is streamed.
func (l Logs) Follow(ctx context.Context, cs []LogSource, tail int) (*LogStream, error) {
	s := &LogStream{lines: make(chan string, 64), done: make(chan struct{}, len(cs)), open: len(cs), ping: l.PingEvery}
	if s.ping <= 0 {
		s.ping = pingEvery
	}
	for _, c := range cs {
		rc, err := l.Runtime.Logs(ctx, c.ID, runtime.LogOptions{Tail: tail, Follow: true})
		if errors.Is(err, runtime.ErrNotFound) || errors.Is(err, runtime.ErrConflict) {
			// Removed, or dead and being removed, since it was listed (a
			// restore or an upgrade replaces the containers): its log has
			// ended.
			s.done <- struct{}{}
			continue
		}
		if err != nil {
			return nil, err
		}
		go func() {
			defer rc.Close()
			defer func() { s.done <- struct{}{} }()
			_ = EachLine(rc, func(line string) {
				// A carriage return would end an event's data line early.
				line = l.prefixed(c, strings.ReplaceAll(line, "\r", ""))
				// A slow writer holds the readers back rather than
				// the stream growing without bound.
				select {
				case s.lines <- line:
				case <-ctx.Done():
				}
			})
		}()
		// Close the reader when the stream ends, which ends the goroutine.
		context.AfterFunc(ctx, func() { rc.Close() })
	}
	return s, nil
}

// Run hands frames to send until every container's log ended (the last
// frame then has End set) or ctx ends (no end frame: the client left).
func (s *LogStream) Run(ctx context.Context, send func(LogFrame)) {
	ping := time.NewTicker(s.ping)
	defer ping.Stop()
	for s.open > 0 {
		select {
		case line := <-s.lines:
			send(LogFrame{Lines: s.waiting([]string{line})})
		case <-s.done:
			s.open--
		case <-ping.C:
			send(LogFrame{Ping: true})
		case <-ctx.Done():
			return
		}
	}
	if ctx.Err() != nil {
		// The readers ended because the client left: nobody to tell.
		return
	}
	// Lines sent before the last reader finished may still be queued.
	send(LogFrame{Lines: s.waiting(nil), End: true})
}

// waiting adds the lines queued now to lines, without waiting for more.
func (s *LogStream) waiting(lines []string) []string {
	for {
		select {
		case line := <-s.lines:
			lines = append(lines, line)
		default:
			return lines
		}
	}
}
