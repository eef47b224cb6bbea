package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// TenantActivity is one tenant's activity since the last flush: its latest
// request and how many requests it served on Day (YYYY-MM-DD, UTC).
type TenantActivity struct {
	TenantID   string
	LastActive time.Time
	// LastRequest says what the latest real request was, in words; empty
	// when unchanged.
	LastRequest string
	Day         string
	Requests    int64
}

// RecordActivity writes a batch of activity in one transaction: the
// router counts requests in memory and flushes them every few seconds, so
// no request writes to the database. A tenant's first activity queues its
// webhook in the same transaction.
func (db *DB) RecordActivity(ctx context.Context, batch []TenantActivity) error {
	if len(batch) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, a := range batch {
			if !a.LastActive.IsZero() {
				// Text order is time order, so MAX keeps the latest.
				if _, err := tx.ExecContext(ctx, `UPDATE tenants SET last_active_at = MAX(COALESCE(last_active_at, ''), ?) WHERE id = ?`,
					formatTime(a.LastActive), a.TenantID); err != nil {
					return fmt.Errorf("record activity of %s: %w", a.TenantID, err)
				}
				if err := db.markFirstActive(ctx, tx, a.TenantID, a.LastActive); err != nil {
					return err
				}
			}
			if a.LastRequest != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE tenants SET last_request = ? WHERE id = ?`, a.LastRequest, a.TenantID); err != nil {
					return fmt.Errorf("record last request of %s: %w", a.TenantID, err)
				}
			}
			if a.Requests > 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_requests (tenant_id, day, requests) VALUES (?, ?, ?)
					ON CONFLICT (tenant_id, day) DO UPDATE SET requests = requests + excluded.requests`,
					a.TenantID, a.Day, a.Requests); err != nil {
					return fmt.Errorf("count requests of %s: %w", a.TenantID, err)
				}
			}
		}
		return nil
	})
}

// markFirstActive stamps a tenant's first served request and queues its
// first-activity webhook then, and only then.
func (db *DB) markFirstActive(ctx context.Context, tx *sqlx.Tx, id string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE tenants SET first_active_at = ? WHERE id = ? AND first_active_at IS NULL`, formatTime(at), id)
	if err != nil {
		return fmt.Errorf("mark first activity of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return db.enqueueTenantEvent(ctx, tx, EventFirstActivity, id)
}

// TenantRequests returns a tenant's request count of one day.
func (db *DB) TenantRequests(ctx context.Context, tenantID, day string) (int64, error) {
	var n int64
	err := db.r.GetContext(ctx, &n, `SELECT COALESCE(SUM(requests), 0) FROM tenant_requests WHERE tenant_id = ? AND day = ?`, tenantID, day)
	return n, err
}

// RecordActivation stores how long one activation took, from the request
// that asked for it to the routed service answering.
func (db *DB) RecordActivation(ctx context.Context, tenantID string, at time.Time, took time.Duration, by string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO activations (tenant_id, at, seconds, woken_by) VALUES (?, ?, ?, ?)`,
		tenantID, formatTime(at), took.Seconds(), by)
	if err != nil {
		return fmt.Errorf("record activation of %s: %w", tenantID, err)
	}
	return nil
}

// WakeFacts say why a tenant is awake: how many cold starts it had, and
// what woke it last and when.
type WakeFacts struct {
	ColdStarts  int    `db:"cold_starts"`
	LastWokenBy string `db:"woken_by"`
	LastWokenAt Time   `db:"at"`
}

// TenantWakeFacts reads a tenant's wake facts from its activations.
func (db *DB) TenantWakeFacts(ctx context.Context, tenantID string) (WakeFacts, error) {
	var f WakeFacts
	err := db.r.GetContext(ctx, &f, `SELECT COUNT(*) AS cold_starts,
		COALESCE((SELECT woken_by FROM activations WHERE tenant_id = ?1 ORDER BY at DESC, id DESC LIMIT 1), '') AS woken_by,
		COALESCE(MAX(at), '') AS at
		FROM activations WHERE tenant_id = ?1`, tenantID)
	if err != nil {
		return WakeFacts{}, fmt.Errorf("wake facts of %s: %w", tenantID, err)
	}
	return f, nil
}

// CountActivations counts the activations recorded of a tenant.
func (db *DB) CountActivations(ctx context.Context, tenantID string) (int, error) {
	var n int
	if err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM activations WHERE tenant_id = ?`, tenantID); err != nil {
		return 0, fmt.Errorf("count activations of %s: %w", tenantID, err)
	}
	return n, nil
}
