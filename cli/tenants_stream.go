package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"appfactory/cli/apiclient"
)

func tenantLogs(ctx context.Context, c *cmd, api *apiclient.Client, follow bool, service, tail string) error {
	if tail != "" {
		if n, err := strconv.Atoi(tail); err != nil || n < 1 {
			return usagef("--tail must be a positive number of lines")
		}
	}
	base := "/tenants/" + apiclient.PathID(c.args[0]) + "/logs"
	if !follow {
		text, err := api.Text(ctx, apiclient.Query(base, "service", service, "tail", tail))
		if err != nil {
			return err
		}
		_, err = io.WriteString(c.out, text)
		return err
	}
	s, err := api.Stream(ctx, apiclient.Query(base+"/stream", "service", service, "tail", tail), "")
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		ev, err := s.Next()
		if err != nil {
			return streamEnd(ctx, err)
		}
		if ev.Event == "end" {
			fmt.Fprintln(c.out, "(the containers stopped)")
			return nil
		}
		fmt.Fprintln(c.out, ev.Data)
	}
}

// streamEnd is the error of a stream that ended: none when it was
// interrupted (Ctrl-C) or ended by the server.
func streamEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func tenantEvents(ctx context.Context, c *cmd, api *apiclient.Client, follow bool, kind string) error {
	id := c.args[0]
	if !follow {
		raw, err := api.Call(ctx, "GET", "/tenants/"+apiclient.PathID(id)+"/events", nil)
		if err != nil {
			return err
		}
		if c.json() {
			return c.printJSON(raw)
		}
		var list struct {
			Events []apiclient.Event `json:"events"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		for _, e := range list.Events {
			if kind == "" || e.Kind == kind {
				eventLine(c.out, e, false)
			}
		}
		return nil
	}
	return followEvents(ctx, c, api, apiclient.Query("/events/stream", "tenant", id, "kind", kind))
}

// followEvents prints the stream's events until interrupted; when the
// server closes the stream (a restart, or this reader fell behind) it
// reconnects with Last-Event-ID, so no event is lost or printed twice.
func followEvents(ctx context.Context, c *cmd, api *apiclient.Client, path string) error {
	last := ""
	for {
		s, err := api.Stream(ctx, path, last)
		if err != nil {
			var ae *apiclient.Error
			if ctx.Err() != nil {
				return nil
			}
			if errors.As(err, &ae) || last == "" {
				return err
			}
		} else {
			last, err = printEvents(c, s, last)
			s.Close()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil && !errors.Is(err, io.EOF) {
				fmt.Fprintf(c.fs.Output(), "appfactory: event stream interrupted (%v); reconnecting\n", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func printEvents(c *cmd, s *apiclient.EventStream, last string) (string, error) {
	for {
		ev, err := s.Next()
		if err != nil {
			return last, err
		}
		if ev.ID != "" {
			last = ev.ID
		}
		if c.json() {
			fmt.Fprintln(c.out, ev.Data)
			continue
		}
		var e apiclient.Event
		if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
			return last, fmt.Errorf("an event that is not JSON: %v", err)
		}
		eventLine(c.out, e, false)
	}
}
