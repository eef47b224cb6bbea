package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/eventfeed"
	"appfactory/store"
)

// EventStreamConfig tunes GET /api/v1/events/stream; zero fields take the
// defaults.
type EventStreamConfig struct {
	// Heartbeat is how often a quiet stream sends a comment line (15 s).
	Heartbeat time.Duration
	// Poll is how often the feed reads the store without a write signal (1 s).
	Poll time.Duration
	// Buffer is how many events a reader may have waiting before it is dropped (512).
	Buffer int
}

// StreamEventJSON is one event of the stream: an event of any tenant the
// reader may see.
type StreamEventJSON struct {
	ID       int64     `json:"id"`
	TenantID string    `json:"tenant_id"`
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Message  string    `json:"message"`
}

// registerEvents installs the event stream over a feed of the store that
// ends when the server shuts down.
func (h *Handlers) registerEvents(e *echo.Echo) {
	h.events = &eventfeed.Hub{Source: h.DB, Poll: h.Events.Poll, Buffer: h.Events.Buffer, Logger: h.Logger}
	h.Server.RegisterOnShutdown(h.events.Close)
	e.GET("/api/v1/events/stream", h.apiEventStream, h.APIAuth)
}

// eventFilter is what one stream keeps: the events of tenants the user may
// see, of one tenant and one kind when asked.
type eventFilter struct {
	user   *store.User
	tenant string
	kind   string
}

func (f eventFilter) keep(e store.FeedEvent) bool {
	if !f.user.IsStaff() && e.OwnerID != f.user.ID && e.CreatedBy != f.user.ID {
		return false
	}
	return (f.tenant == "" || e.TenantID == f.tenant) && (f.kind == "" || e.Kind == f.kind)
}

// streamRequest reads the filters and the ID to resume after (the
// Last-Event-ID header, or ?last_event_id=); -1 when there is none.
func (h *Handlers) streamRequest(c echo.Context) (eventFilter, int64, error) {
	u := CurrentUser(c)
	f := eventFilter{user: u, tenant: c.QueryParam("tenant"), kind: c.QueryParam("kind")}
	if f.kind != "" && !slices.Contains(domain.EventKinds(), f.kind) {
		return f, 0, apperr.FieldError(apperr.Invalid, "kind", "kind must be one of %s.", strings.Join(domain.EventKinds(), ", "))
	}
	if f.tenant != "" {
		if _, err := h.tenantFor(c.Request().Context(), u, f.tenant, false); err != nil {
			return f, 0, err
		}
	}
	last := c.Request().Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("last_event_id")
	}
	if last == "" {
		return f, -1, nil
	}
	id, err := strconv.ParseInt(strings.TrimSpace(last), 10, 64)
	if err != nil || id < 0 {
		return f, 0, apperr.FieldError(apperr.Invalid, "Last-Event-ID", "Last-Event-ID must be the id of an event.")
	}
	return f, id, nil
}

// apiEventStream is a server-sent event stream of tenant events: after the
// events since Last-Event-ID (if given) read from the store, the new ones
// as they are recorded, each with its stored ID, and a comment line every
// Heartbeat while it is quiet. A reader that falls behind is disconnected
// and resumes with Last-Event-ID.
func (h *Handlers) apiEventStream(c echo.Context) error {
	ctx := c.Request().Context()
	f, last, err := h.streamRequest(c)
	if err != nil {
		return err
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	sub, pos, err := h.events.Subscribe(ctx, f.keep, func() { _ = rc.SetWriteDeadline(time.Now()) })
	if err != nil {
		return apperr.New(apperr.Unavailable, "The event stream is not available: %v.", err)
	}
	defer sub.Close()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	if last >= 0 {
		if err := h.replayEvents(ctx, w, rc, f, last, pos); err != nil {
			return nil
		}
	}
	beat := h.Events.Heartbeat
	if beat <= 0 {
		beat = 15 * time.Second
	}
	ticker := time.NewTicker(beat)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Dropped:
			return nil
		case ev := <-sub.C:
			if err := writeEvent(w, rc, ev); err != nil {
				return nil
			}
		case <-ticker.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}

// replayEvents writes the kept events after last up to pos from the store.
func (h *Handlers) replayEvents(ctx context.Context, w *echo.Response, rc *http.ResponseController, f eventFilter, last, pos int64) error {
	for last < pos {
		evs, err := h.DB.EventFeed(ctx, last, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		for _, ev := range evs {
			if ev.ID > pos {
				return nil
			}
			last = ev.ID
			if f.keep(ev) {
				if err := writeEvent(w, rc, ev); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeEvent sends one event: its stored ID, its JSON as data.
func writeEvent(w *echo.Response, rc *http.ResponseController, ev store.FeedEvent) error {
	b, err := json.Marshal(StreamEventJSON{ID: ev.ID, TenantID: ev.TenantID, At: ev.At.Time, Kind: ev.Kind, Message: ev.Message})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", ev.ID, b); err != nil {
		return err
	}
	return rc.Flush()
}
