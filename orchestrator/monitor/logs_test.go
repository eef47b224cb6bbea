package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

// pipeLogs serves each container's log from a pipe the test writes to.
type pipeLogs struct {
	mu    sync.Mutex
	pipes map[string]*io.PipeWriter
	text  map[string]string // the tails, for Tail
}

func newPipeLogs() *pipeLogs {
	return &pipeLogs{pipes: map[string]*io.PipeWriter{}, text: map[string]string{}}
}

func (p *pipeLogs) Logs(_ context.Context, id string, opts runtime.LogOptions) (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !opts.Follow {
		t, ok := p.text[id]
		if !ok {
			return nil, runtime.ErrNotFound
		}
		return io.NopCloser(strings.NewReader(t)), nil
	}
	if id == "missing" {
		return nil, runtime.ErrNotFound
	}
	r, w := io.Pipe()
	p.pipes[id] = w
	return r, nil
}

func (p *pipeLogs) writer(id string) *io.PipeWriter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pipes[id]
}

func TestLogsTailMergesInTimeOrder(t *testing.T) {
	p := newPipeLogs()
	p.text["a"] = "2024-01-01T00:00:01Z one\n2024-01-01T00:00:03Z three\n"
	p.text["b"] = "2024-01-01T00:00:02Z two\n2024-01-01T00:00:04Z four\r\n"
	cs := []LogSource{{ID: "a", Name: "web-1"}, {ID: "b", Name: "web-2"}}
	for _, tc := range []struct {
		prefix bool
		tail   int
		want   []string
	}{
		{true, 10, []string{"web-1 | one", "web-2 | two", "web-1 | three", "web-2 | four"}},
		{true, 2, []string{"web-1 | three", "web-2 | four"}},
		{false, 3, []string{"two", "three", "four"}},
	} {
		t.Run(fmt.Sprint(tc.prefix, tc.tail), func(t *testing.T) {
			got, err := Logs{Runtime: p, Prefix: tc.prefix}.Tail(context.Background(), cs, tc.tail)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Tail = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	if _, err := (Logs{Runtime: p}).Tail(context.Background(), []LogSource{{ID: "gone"}}, 1); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Tail of a missing container: %v", err)
	}
}

func TestEachLineCutsLongLines(t *testing.T) {
	long := strings.Repeat("x", MaxLogLine+100)
	var got []string
	if err := EachLine(strings.NewReader("a\r\n"+long+"\nb"), func(s string) { got = append(got, s) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "a" || len(got[1]) != MaxLogLine || got[2] != "b" {
		t.Errorf("lines %d: %q..., want a, the long line cut, b", len(got), got[0])
	}
}

// collect runs a stream in the background, gathering its frames.
func collect(ctx context.Context, s *LogStream) (<-chan LogFrame, <-chan struct{}) {
	frames := make(chan LogFrame, 1000)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		s.Run(ctx, func(f LogFrame) { frames <- f })
	}()
	return frames, ended
}

func TestLogStreamMergesPingsAndEnds(t *testing.T) {
	p := newPipeLogs()
	ctx := context.Background()
	cs := []LogSource{{ID: "a", Name: "web-1"}, {ID: "b", Name: "web-2"}}
	s, err := Logs{Runtime: p, Prefix: true, PingEvery: 10 * time.Millisecond}.Follow(ctx, cs, 5)
	if err != nil {
		t.Fatal(err)
	}
	frames, ended := collect(ctx, s)
	next := func(t *testing.T, want func(LogFrame) bool) LogFrame {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case f := <-frames:
				if want(f) {
					return f
				}
			case <-deadline:
				t.Fatal("no such frame")
			}
		}
	}
	next(t, func(f LogFrame) bool { return f.Ping })

	fmt.Fprint(p.writer("a"), "hello\r\n")
	if f := next(t, func(f LogFrame) bool { return len(f.Lines) > 0 }); f.Lines[0] != "web-1 | hello" {
		t.Errorf("lines %q, want the prefix and no carriage return", f.Lines)
	}
	p.writer("a").Close()
	fmt.Fprint(p.writer("b"), "last\n")
	p.writer("b").Close()
	var lines []string
	f := next(t, func(f LogFrame) bool { lines = append(lines, f.Lines...); return f.End })
	if !slices.Equal(lines, []string{"web-2 | last"}) || f.Ping {
		t.Errorf("lines before the end %q, end frame %+v", lines, f)
	}
	<-ended
}

// TestLogStreamHoldsReadersBack sends more lines than the stream queues
// to a slow writer: none is lost, and each container's stay in order.
func TestLogStreamHoldsReadersBack(t *testing.T) {
	p := newPipeLogs()
	ctx := context.Background()
	s, err := Logs{Runtime: p}.Follow(ctx, []LogSource{{ID: "a"}}, 5)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w := p.writer("a")
		for i := range 500 {
			fmt.Fprintf(w, "%d\n", i)
		}
		w.Close()
	}()
	var got []string
	s.Run(ctx, func(f LogFrame) {
		time.Sleep(time.Millisecond)
		got = append(got, f.Lines...)
	})
	if len(got) != 500 || got[0] != "0" || got[499] != "499" {
		t.Errorf("%d lines, want 500 in order", len(got))
	}
}

func TestLogStreamStopsWithItsContext(t *testing.T) {
	p := newPipeLogs()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Logs{Runtime: p}.Follow(ctx, []LogSource{{ID: "a"}}, 5)
	if err != nil {
		t.Fatal(err)
	}
	frames, ended := collect(ctx, s)
	cancel()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived its context")
	}
	for len(frames) > 0 {
		if f := <-frames; f.End {
			t.Error("an end frame after the client left")
		}
	}
	// A container removed since it was listed (a restore or an upgrade
	// replaces them) has ended: the stream ends at once, without an error.
	gone, err := (Logs{Runtime: p}).Follow(context.Background(), []LogSource{{ID: "missing"}}, 5)
	if err != nil {
		t.Fatalf("Follow of a removed container: %v", err)
	}
	var last LogFrame
	gone.Run(context.Background(), func(f LogFrame) { last = f })
	if !last.End {
		t.Errorf("the stream of a removed container ended with %+v, want the end frame", last)
	}
}
