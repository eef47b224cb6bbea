package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// maxEventMessage bounds what one event holds.
const maxEventMessage = 2000

// Event is one line of a tenant's history.
type Event struct {
	ID       int64  `db:"id" json:"id"`
	TenantID string `db:"tenant_id" json:"tenant_id"`
	At       Time   `db:"at" json:"-"`
	Kind     string `db:"kind" json:"kind"`
	Message  string `db:"message" json:"message"`
}

// AddEvent records an event of a tenant.
func (db *DB) AddEvent(ctx context.Context, tenantID, kind, message string) error {
	if err := addEvent(ctx, db.w, tenantID, db.Now(), kind, message); err != nil {
		return err
	}
	db.written.notify()
	return nil
}

func addEvent(ctx context.Context, ex sqlx.ExecerContext, tenantID string, at time.Time, kind, message string) error {
	if len(message) > maxEventMessage {
		message = message[:maxEventMessage] + "…"
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO events (tenant_id, at, kind, message) VALUES (?, ?, ?, ?)`, tenantID, formatTime(at), kind, message)
	if err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	return nil
}

// ListEvents returns a tenant's events after afterID, oldest first, at most
// limit of them (the latest ones when there are more).
func (db *DB) ListEvents(ctx context.Context, tenantID string, afterID int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []Event
	err := db.r.SelectContext(ctx, &out, `SELECT * FROM (
		SELECT id, tenant_id, at, kind, message FROM events WHERE tenant_id = ? AND id > ? ORDER BY id DESC LIMIT ?
	) ORDER BY id`, tenantID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}
