package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"appfactory/apperr"
)

// TokenPrefix starts every API token, so a leaked one is easy to recognise
// (and to search for in code and logs).
const TokenPrefix = "af_"

// Token is an API token's row; the token itself is shown once and only its
// sha256 is stored.
type Token struct {
	ID         string `db:"id"`
	UserID     string `db:"user_id"`
	Name       string `db:"name"`
	TokenHash  string `db:"token_hash"`
	CreatedAt  Time   `db:"created_at"`
	LastUsedAt Time   `db:"last_used_at"`
}

func hashToken(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new API token for a user and returns its plaintext,
// which is stored nowhere.
func (db *DB) CreateToken(ctx context.Context, userID, name string) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if len(name) > 100 {
		return "", nil, apperr.FieldError(apperr.Unprocessable, "name", "Use at most 100 characters.")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("token: %w", err)
	}
	plaintext := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &Token{ID: NewID(), UserID: userID, Name: name, TokenHash: hashToken(plaintext), CreatedAt: TimeOf(db.Now())}
	_, err := db.w.NamedExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at)
		VALUES (:id, :user_id, :name, :token_hash, :created_at)`, t)
	if err != nil {
		return "", nil, fmt.Errorf("insert token: %w", err)
	}
	return plaintext, t, nil
}

// tokenTouchEvery limits writes: a token's last use is recorded at most this often.
const tokenTouchEvery = time.Minute

// UserByToken returns the user an API token belongs to; unauthorized for an
// unknown token. It records the token's use.
func (db *DB) UserByToken(ctx context.Context, plaintext string) (*User, error) {
	if !strings.HasPrefix(plaintext, TokenPrefix) || len(plaintext) > 200 {
		return nil, apperr.New(apperr.Unauthorized, "The API token is not valid.")
	}
	var row struct {
		User
		TokenID  string `db:"token_id"`
		LastUsed Time   `db:"last_used_at"`
	}
	err := db.r.GetContext(ctx, &row, `SELECT u.id, u.email, u.name, u.company, u.password_hash, u.role, u.disabled,
		u.created_at, u.updated_at, u.email_verified_at, u.mail_opt_out, t.id AS token_id, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, hashToken(plaintext))
	if err != nil {
		if err == sql.ErrNoRows {
			return nil, apperr.New(apperr.Unauthorized, "The API token is not valid.")
		}
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	now := db.Now()
	if row.LastUsed.IsZero() || now.Sub(row.LastUsed.Time) >= tokenTouchEvery {
		if _, err := db.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), row.TokenID); err != nil {
			return nil, fmt.Errorf("token use: %w", err)
		}
	}
	u := row.User
	return &u, nil
}

// ListTokens returns a user's tokens, newest first.
func (db *DB) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	var ts []Token
	err := db.r.SelectContext(ctx, &ts, `SELECT id, user_id, name, token_hash, created_at, last_used_at
		FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// DeleteToken revokes a token of a user; not_found when the user has no such
// token (tokens are only ever looked up with their owner).
func (db *DB) DeleteToken(ctx context.Context, userID, tokenID string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, tokenID, userID)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "Token not found.")
	}
	return nil
}
