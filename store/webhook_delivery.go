package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event queued for one hook, with what its latest
// attempt got back.
type WebhookDelivery struct {
	ID            string         `db:"id"`
	WebhookID     string         `db:"webhook_id"`
	EventID       string         `db:"event_id"`
	Event         string         `db:"event"`
	Body          string         `db:"body"`
	State         string         `db:"state"`
	Attempts      int            `db:"attempts"`
	NextAttemptAt Time           `db:"next_attempt_at"`
	LeaseUntil    Time           `db:"lease_until"`
	LastAttemptAt Time           `db:"last_attempt_at"`
	LastStatus    int            `db:"last_status"`
	LastBody      string         `db:"last_body"`
	LastError     string         `db:"last_error"`
	RedeliveryOf  sql.NullString `db:"redelivery_of"`
	CreatedAt     Time           `db:"created_at"`
}

const deliveryColumns = `id, webhook_id, event_id, event, body, state, attempts, next_attempt_at, lease_until,
	last_attempt_at, last_status, last_body, last_error, redelivery_of, created_at`

// DueDelivery is a claimed delivery with where it goes and what signs it.
type DueDelivery struct {
	WebhookDelivery
	URL    string `db:"url"`
	Secret string `db:"secret"`
}

// ClaimWebhookDeliveries leases up to limit due deliveries of enabled
// hooks for lease and counts the attempt: another dispatcher (or this one
// after a crash) takes a delivery again only once its lease ran out.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, lease time.Duration, limit int) ([]DueDelivery, error) {
	var out []DueDelivery
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := db.Now()
		var ids []string
		if err := tx.SelectContext(ctx, &ids, `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 AND (d.lease_until IS NULL OR d.lease_until <= ?1)
			AND w.enabled = 1 ORDER BY d.next_attempt_at, d.id LIMIT ?2`, formatTime(now), limit); err != nil {
			return fmt.Errorf("due deliveries: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_until = ?, last_attempt_at = ?,
				attempts = attempts + 1 WHERE id = ?`, formatTime(now.Add(lease)), formatTime(now), id); err != nil {
				return fmt.Errorf("lease delivery: %w", err)
			}
			var d DueDelivery
			if err := tx.GetContext(ctx, &d, `SELECT d.id, d.webhook_id, d.event_id, d.event, d.body, d.state, d.attempts,
				d.next_attempt_at, d.lease_until, d.last_attempt_at, d.last_status, d.last_body, d.last_error,
				d.redelivery_of, d.created_at, w.url, w.secret
				FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?`, id); err != nil {
				return fmt.Errorf("read delivery: %w", err)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// DeliveryOutcome is what one attempt got: the status and an excerpt of
// the body, or the error that kept it from an answer. Delivered ends the
// delivery; otherwise RetryAt is its next attempt, or zero to give up.
type DeliveryOutcome struct {
	Status    int
	Body      string
	Error     string
	Delivered bool
	RetryAt   time.Time
}

// RecordWebhookAttempt writes an attempt's outcome and ends the lease.
func (db *DB) RecordWebhookAttempt(ctx context.Context, id string, o DeliveryOutcome) error {
	state, next := DeliveryPending, o.RetryAt
	switch {
	case o.Delivered:
		state, next = DeliveryDelivered, db.Now()
	case o.RetryAt.IsZero():
		state, next = DeliveryFailed, db.Now()
	}
	_, err := db.w.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, lease_until = NULL,
		last_status = ?, last_body = ?, last_error = ? WHERE id = ?`,
		state, formatTime(next), o.Status, o.Body, o.Error, id)
	if err != nil {
		return fmt.Errorf("record delivery attempt: %w", err)
	}
	return nil
}

// WebhookDeliveries lists a hook's latest deliveries, newest first.
func (db *DB) WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]WebhookDelivery, error) {
	ds := []WebhookDelivery{}
	if err := db.r.SelectContext(ctx, &ds, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, webhookID, limit); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return ds, nil
}

// WebhookDelivery returns one delivery of a hook.
func (db *DB) WebhookDelivery(ctx context.Context, webhookID, id string) (*WebhookDelivery, error) {
	var d WebhookDelivery
	if err := db.r.GetContext(ctx, &d, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = ? AND id = ?`, webhookID, id); err != nil {
		return nil, NotFound(err, "Delivery")
	}
	return &d, nil
}

// RedeliverWebhook queues the same event again for the same hook, as a
// new delivery due now, and returns it.
func (db *DB) RedeliverWebhook(ctx context.Context, webhookID, id string) (*WebhookDelivery, error) {
	var d WebhookDelivery
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &d, `SELECT `+deliveryColumns+` FROM webhook_deliveries
			WHERE webhook_id = ? AND id = ?`, webhookID, id); err != nil {
			return NotFound(err, "Delivery")
		}
		now := TimeOf(db.Now())
		d = WebhookDelivery{ID: NewID(), WebhookID: d.WebhookID, EventID: d.EventID, Event: d.Event, Body: d.Body,
			State: DeliveryPending, NextAttemptAt: now, CreatedAt: now, RedeliveryOf: sql.NullString{String: id, Valid: true}}
		_, err := tx.NamedExecContext(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`) VALUES (
			:id, :webhook_id, :event_id, :event, :body, :state, :attempts, :next_attempt_at, :lease_until,
			:last_attempt_at, :last_status, :last_body, :last_error, :redelivery_of, :created_at)`, &d)
		if err != nil {
			return fmt.Errorf("queue redelivery: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}
