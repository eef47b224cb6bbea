package store

import (
	"context"
	"fmt"
	"sync"
)

// FeedEvent is an event of any tenant with what decides who may see it.
type FeedEvent struct {
	Event
	OwnerID   string `db:"owner_id"`
	CreatedBy string `db:"created_by"`
}

// EventFeed returns the events of every tenant after afterID, oldest first,
// at most limit of them (1000 when limit is out of 1..1000): the first
// ones, so a reader pages on from the last ID it got.
func (db *DB) EventFeed(ctx context.Context, afterID int64, limit int) ([]FeedEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []FeedEvent
	err := db.r.SelectContext(ctx, &out, `SELECT e.id, e.tenant_id, e.at, e.kind, e.message,
		COALESCE(t.owner_id, '') AS owner_id, COALESCE(t.created_by, '') AS created_by
		FROM events e LEFT JOIN tenants t ON t.id = e.tenant_id
		WHERE e.id > ? ORDER BY e.id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("event feed: %w", err)
	}
	return out, nil
}

// LastEventID is the ID of the latest event (0 without any).
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := db.r.GetContext(ctx, &id, `SELECT COALESCE(MAX(id), 0) FROM events`); err != nil {
		return 0, fmt.Errorf("last event id: %w", err)
	}
	return id, nil
}

// EventsWritten is closed at the next write that may have added events
// (an event, or a committed transaction): a reader of EventFeed waits on it
// instead of polling hard. It only wakes readers early; the feed is what
// they read.
func (db *DB) EventsWritten() <-chan struct{} { return db.written.wait() }

// signal wakes the readers of EventsWritten once per write.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
