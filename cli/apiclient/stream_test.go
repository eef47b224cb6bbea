package apiclient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEventStreamReadsEvents(t *testing.T) {
	in := "retry: 3000\n\n: ping\n\nid: 7\ndata: {\"id\":7}\n\nevent: end\ndata: the containers stopped\n\nid: 8\ndata: a\ndata: b\n\n"
	s := newEventStream(io.NopCloser(strings.NewReader(in)))
	want := []SSE{{ID: "7", Data: `{"id":7}`}, {Event: "end", Data: "the containers stopped"}, {ID: "8", Data: "a\nb"}}
	for i, w := range want {
		got, err := s.Next()
		if err != nil || got != w {
			t.Fatalf("event %d: %+v %v, want %+v", i, got, err, w)
		}
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last event: %v", err)
	}
}

// FuzzEventStream: any bytes from a server end the reader with events or
// an error, never a panic or a hang.
func FuzzEventStream(f *testing.F) {
	f.Add("id: 1\ndata: {}\n\n")
	f.Add(": ping\n\nevent: end\ndata:\n\n")
	f.Add("data:x\r\n\r\nid\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		s := newEventStream(io.NopCloser(strings.NewReader(in)))
		for i := 0; i <= len(in); i++ {
			if _, err := s.Next(); err != nil {
				return
			}
		}
		t.Fatalf("more events than bytes in %q", in)
	})
}
