package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// OutboxMail is one mail of the durable outbox: written with the change
// that caused it, sent by the mail loop, kept afterwards for the admins'
// outbox page.
type OutboxMail struct {
	ID     string `db:"id"`
	Kind   string `db:"kind"`
	UserID string `db:"user_id"`
	To     string `db:"to_addr"`
	// Subject, Text and HTML are the rendered mail.
	Subject string `db:"subject"`
	Text    string `db:"text_body"`
	HTML    string `db:"html_body"`
	// Unsubscribe is the one-click link of a non-security mail ("" for none).
	Unsubscribe  string `db:"unsubscribe"`
	CreatedAt    Time   `db:"created_at"`
	NextAt       Time   `db:"next_at"`
	ClaimedUntil Time   `db:"claimed_until"`
	// Claim identifies the sender holding the lease.
	Claim     string `db:"claim"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
	SentAt    Time   `db:"sent_at"`
	FailedAt  Time   `db:"failed_at"`
}

const outboxColumns = `id, kind, user_id, to_addr, subject, text_body, html_body, unsubscribe, created_at, next_at,
	claimed_until, claim, attempts, last_error, sent_at, failed_at`

// EnqueueMail writes m to the outbox, due now, filling its ID and times.
func (db *DB) EnqueueMail(ctx context.Context, m *OutboxMail) error {
	return db.enqueueMail(ctx, db.w, m)
}

// enqueueMail is EnqueueMail through e: the writer or a transaction of it.
func (db *DB) enqueueMail(ctx context.Context, e sqlx.ExtContext, m *OutboxMail) error {
	if m.ID == "" {
		m.ID = NewID()
	}
	now := TimeOf(db.Now())
	m.CreatedAt, m.NextAt = now, now
	_, err := sqlx.NamedExecContext(ctx, e, `INSERT INTO outbox (id, kind, user_id, to_addr, subject, text_body, html_body, unsubscribe, created_at, next_at)
		VALUES (:id, :kind, :user_id, :to_addr, :subject, :text_body, :html_body, :unsubscribe, :created_at, :next_at)`, m)
	if err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// ClaimMail leases the oldest due mail to claim for lease, and returns it
// (nil when none is due). A mail whose earlier lease ran out (its sender
// died mid-send) is due again.
func (db *DB) ClaimMail(ctx context.Context, claim string, lease time.Duration) (*OutboxMail, error) {
	now := db.Now()
	var m OutboxMail
	err := db.w.GetContext(ctx, &m, `UPDATE outbox SET claim = ?, claimed_until = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= ?
			AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY next_at, created_at LIMIT 1)
		RETURNING `+outboxColumns, claim, formatTime(now.Add(lease)), formatTime(now), formatTime(now))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	return &m, nil
}

// MarkMailSent records that the holder of claim sent mail id. It reports
// false when the lease was lost (another sender claimed the mail since).
func (db *DB) MarkMailSent(ctx context.Context, id, claim string) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE outbox SET sent_at = ?, claimed_until = NULL, last_error = '' WHERE id = ? AND claim = ? AND sent_at IS NULL`,
		formatTime(db.Now()), id, claim)
	if err != nil {
		return false, fmt.Errorf("mark mail sent: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RetryMail gives mail id back after a failed attempt: due again at next,
// or given up on (failed) when giveUp is set.
func (db *DB) RetryMail(ctx context.Context, id, claim, lastError string, next time.Time, giveUp bool) error {
	failed := sql.NullString{}
	if giveUp {
		failed = sql.NullString{String: formatTime(db.Now()), Valid: true}
	}
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET next_at = ?, claimed_until = NULL, last_error = ?, failed_at = ? WHERE id = ? AND claim = ? AND sent_at IS NULL`,
		formatTime(next), lastError, failed, id, claim)
	if err != nil {
		return fmt.Errorf("retry mail: %w", err)
	}
	return nil
}

// ListOutbox returns the newest mails first, at most limit.
func (db *DB) ListOutbox(ctx context.Context, limit int) ([]OutboxMail, error) {
	if limit <= 0 {
		limit = 200
	}
	var ms []OutboxMail
	if err := db.r.SelectContext(ctx, &ms, `SELECT `+outboxColumns+` FROM outbox ORDER BY created_at DESC, id LIMIT ?`, limit); err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return ms, nil
}

// MailByID returns one mail of the outbox; not_found when there is none.
func (db *DB) MailByID(ctx context.Context, id string) (*OutboxMail, error) {
	var m OutboxMail
	if err := db.r.GetContext(ctx, &m, `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id); err != nil {
		return nil, NotFound(err, "Mail")
	}
	return &m, nil
}

// PruneOutbox deletes the mails created before before that were sent or
// given up; it returns how many went. Mails still to send stay.
func (db *DB) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM outbox WHERE created_at < ? AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)`, formatTime(before))
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return res.RowsAffected()
}
