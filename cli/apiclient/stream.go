package apiclient

import (
	"bufio"
	"io"
	"strings"
)

// SSE is one server-sent event.
type SSE struct {
	ID    string
	Event string
	Data  string
}

// EventStream reads server-sent events.
type EventStream struct {
	body  io.ReadCloser
	lines *bufio.Scanner
}

func newEventStream(body io.ReadCloser) *EventStream {
	s := bufio.NewScanner(body)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	return &EventStream{body: body, lines: s}
}

// Next returns the next event; io.EOF (or the read error) when the stream
// ends. Comments (heartbeats) are skipped.
func (s *EventStream) Next() (SSE, error) {
	var ev SSE
	var data []string
	for s.lines.Scan() {
		line := s.lines.Text()
		if line == "" {
			if data != nil || ev.Event != "" {
				ev.Data = strings.Join(data, "\n")
				return ev, nil
			}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			data = append(data, value)
		}
	}
	if err := s.lines.Err(); err != nil {
		return SSE{}, err
	}
	return SSE{}, io.EOF
}

// Close ends the stream.
func (s *EventStream) Close() error { return s.body.Close() }
