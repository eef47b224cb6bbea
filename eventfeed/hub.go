// Package eventfeed fans the stored tenant events out to live readers (the
// API's event stream). The store is the source of truth: one loop reads the
// events after the last one it saw, woken by the store's write signal or a
// poll, and hands each to every subscriber that keeps it. A subscriber has
// a bounded buffer; one that falls behind is dropped, so a slow reader never
// holds up the loop or the other readers.
package eventfeed

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"appfactory/store"
)

// Source is where the hub reads events: the store.
type Source interface {
	EventFeed(ctx context.Context, afterID int64, limit int) ([]store.FeedEvent, error)
	LastEventID(ctx context.Context) (int64, error)
	EventsWritten() <-chan struct{}
}

// Defaults of a Hub's zero fields.
const (
	DefaultPoll   = time.Second
	DefaultBuffer = 512
	// pageSize bounds one read of the store, well under the buffer: a
	// reader keeping up drains between reads.
	pageSize = 100
)

// ErrClosed is what Subscribe answers once the hub is closed.
var ErrClosed = errors.New("event feed closed")

// Hub is the fan-out. Its loop runs while it has subscribers.
type Hub struct {
	Source Source
	// Poll is how often the loop reads the store without a write signal
	// (a write from another process sends none).
	Poll time.Duration
	// Buffer is how many events a subscriber may have waiting.
	Buffer int
	Logger *slog.Logger

	mu      sync.Mutex
	subs    map[*Sub]struct{}
	pos     int64
	running bool
	closed  bool
}

// Sub is one reader of the hub.
type Sub struct {
	// C delivers the kept events, in ID order.
	C <-chan store.FeedEvent
	// Dropped is closed when the hub drops the reader: it fell behind by
	// more than the buffer, or the hub closed.
	Dropped <-chan struct{}

	c       chan store.FeedEvent
	dropped chan struct{}
	keep    func(store.FeedEvent) bool
	onDrop  func()
	hub     *Hub
}

// Subscribe adds a reader of the events keep keeps, and returns the ID of
// the last event before those it will get: a reader resuming from an older
// ID reads the ones in between from the store. onDrop (optional) runs in
// the hub's loop when the reader is dropped; it must not block.
func (h *Hub) Subscribe(ctx context.Context, keep func(store.FeedEvent) bool, onDrop func()) (*Sub, int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, ErrClosed
	}
	if !h.running {
		pos, err := h.Source.LastEventID(ctx)
		if err != nil {
			return nil, 0, err
		}
		h.pos, h.running = pos, true
		go h.run()
	}
	buf := h.Buffer
	if buf <= 0 {
		buf = DefaultBuffer
	}
	s := &Sub{c: make(chan store.FeedEvent, buf), dropped: make(chan struct{}), keep: keep, onDrop: onDrop, hub: h}
	s.C, s.Dropped = s.c, s.dropped
	if h.subs == nil {
		h.subs = map[*Sub]struct{}{}
	}
	h.subs[s] = struct{}{}
	return s, h.pos, nil
}

// Close removes the reader from the hub.
func (s *Sub) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	delete(s.hub.subs, s)
}

// Close drops every reader and refuses new ones: the server is shutting down.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.drop(s)
	}
}

// drop removes a reader that cannot keep up; h.mu is held.
func (h *Hub) drop(s *Sub) {
	delete(h.subs, s)
	close(s.dropped)
	if s.onDrop != nil {
		s.onDrop()
	}
}

// run reads the store and fans out until no reader is left.
func (h *Hub) run() {
	poll := h.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		wake := h.Source.EventsWritten()
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		after := h.pos
		h.mu.Unlock()
		evs, err := h.Source.EventFeed(context.Background(), after, pageSize)
		if err != nil && h.Logger != nil {
			h.Logger.Warn("read events for the event stream", slog.Any("err", err))
		}
		h.fanOut(evs)
		if len(evs) == pageSize {
			runtime.Gosched() // let the readers drain before the next page
			continue
		}
		timer.Reset(poll)
		select {
		case <-wake:
		case <-timer.C:
		}
	}
}

// fanOut hands events to every reader that keeps them, never waiting: a
// reader whose buffer is full is dropped.
func (h *Hub) fanOut(evs []store.FeedEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range evs {
		h.pos = ev.ID
		for s := range h.subs {
			if s.keep != nil && !s.keep(ev) {
				continue
			}
			select {
			case s.c <- ev:
			default:
				if h.Logger != nil {
					h.Logger.Info("event stream reader dropped: it fell behind", slog.Int("buffer", cap(s.c)))
				}
				h.drop(s)
			}
		}
	}
}
