package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
)

// Session is a server-side session row. The cookie holds a random id; the
// row is keyed by its sha256 (IDHash), so the database never holds a usable
// session id.
type Session struct {
	IDHash     string         `db:"id_hash"`
	UserID     sql.NullString `db:"user_id"`
	Data       []byte         `db:"data"`
	IP         string         `db:"ip"`
	UserAgent  string         `db:"user_agent"`
	CreatedAt  Time           `db:"created_at"`
	LastSeenAt Time           `db:"last_seen_at"`
	ExpiresAt  Time           `db:"expires_at"`
}

// HashSessionID is the stored form of a session id (hex sha256).
func HashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

const sessionColumns = `id_hash, user_id, data, ip, user_agent, created_at, last_seen_at, expires_at`

// CreateSession inserts a session row. Expired rows are pruned first, so
// the table stays the size of the live sessions.
func (db *DB) CreateSession(ctx context.Context, s *Session) error {
	return db.createSession(ctx, db.w, s)
}

// createSession is CreateSession through e: the writer or a transaction of it.
func (db *DB) createSession(ctx context.Context, e sqlx.ExtContext, s *Session) error {
	if _, err := e.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, formatTime(db.Now())); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	if s.Data == nil {
		s.Data = []byte{}
	}
	_, err := sqlx.NamedExecContext(ctx, e, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES (:id_hash, :user_id, :data, :ip, :user_agent, :created_at, :last_seen_at, :expires_at)`, s)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash returns a live session; not_found when there is none or it
// has expired.
func (db *DB) SessionByHash(ctx context.Context, idHash string) (*Session, error) {
	var s Session
	err := db.r.GetContext(ctx, &s, `SELECT `+sessionColumns+` FROM sessions WHERE id_hash = ? AND expires_at > ?`, idHash, formatTime(db.Now()))
	if err != nil {
		return nil, NotFound(err, "Session")
	}
	return &s, nil
}

// UpdateSession writes a session's data and activity times.
func (db *DB) UpdateSession(ctx context.Context, s *Session) error {
	_, err := db.w.NamedExecContext(ctx, `UPDATE sessions SET data = :data, last_seen_at = :last_seen_at, expires_at = :expires_at WHERE id_hash = :id_hash`, s)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSession ends one session of a user; not_found when the user has
// no such session (a session is only ever looked up with its owner).
func (db *DB) DeleteUserSession(ctx context.Context, userID, idHash string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ? AND user_id = ?`, idHash, userID)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "Session not found.")
	}
	return nil
}

// DeleteUserSessions ends every session of a user but the one whose hash is
// exceptIDHash ("" ends them all).
func (db *DB) DeleteUserSessions(ctx context.Context, userID, exceptIDHash string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, userID, exceptIDHash); err != nil {
		return fmt.Errorf("delete sessions of user: %w", err)
	}
	return nil
}

// ListUserSessions returns a user's live sessions, most recently used first.
func (db *DB) ListUserSessions(ctx context.Context, userID string) ([]Session, error) {
	var ss []Session
	err := db.r.SelectContext(ctx, &ss, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC`, userID, formatTime(db.Now()))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return ss, nil
}

// CountUserSessions returns how many live sessions a user has.
func (db *DB) CountUserSessions(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?`, userID, formatTime(db.Now()))
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}
