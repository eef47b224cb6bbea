package store

import (
	"context"
	"fmt"
	"time"
)

// attemptsKept is how long attempts are remembered: longer than any window
// a throttle asks about.
const attemptsKept = 24 * time.Hour

// RecordAttempt notes one attempt under key ("signin-acct:<email>",
// "signin-ip:<addr>", "signup-ip:<addr>", ...) for throttling. Attempts older
// than a day are pruned on the way.
func (db *DB) RecordAttempt(ctx context.Context, key string) error {
	now := db.Now()
	if _, err := db.w.ExecContext(ctx, `DELETE FROM auth_attempts WHERE at < ?`, formatTime(now.Add(-attemptsKept))); err != nil {
		return fmt.Errorf("prune attempts: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO auth_attempts (key, at) VALUES (?, ?)`, key, formatTime(now)); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	return nil
}

// CountAttempts returns how many attempts were recorded under key within
// the last window.
func (db *DB) CountAttempts(ctx context.Context, key string, window time.Duration) (int, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM auth_attempts WHERE key = ? AND at > ?`, key, formatTime(db.Now().Add(-window)))
	if err != nil {
		return 0, fmt.Errorf("count attempts: %w", err)
	}
	return n, nil
}

// ClearAttempts forgets the attempts under key (after a successful sign-in).
func (db *DB) ClearAttempts(ctx context.Context, key string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM auth_attempts WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear attempts: %w", err)
	}
	return nil
}
