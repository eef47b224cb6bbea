package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
)

// Purposes of account tokens.
const (
	TokenVerifyEmail   = "verify"
	TokenResetPassword = "reset"
)

// newSecret is a random URL-safe token of 192 bits.
func newSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AccountTokenMail is the mail that carries an account token, written
// with it: render makes the mail from the token.
type AccountTokenMail func(token string) (*OutboxMail, error)

// CreateAccountToken makes a single-use token of purpose for a user, valid
// for ttl, stored only as its hash; earlier unused tokens of the same
// purpose stop working. The mail that carries it (render, nil for none) is
// written to the outbox in the same transaction, so that a token is never
// made without its mail nor a mail sent with a token that was not kept.
func (db *DB) CreateAccountToken(ctx context.Context, userID, purpose string, ttl time.Duration, render AccountTokenMail) (string, error) {
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	now := db.Now()
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE user_id = ? AND purpose = ? AND used_at IS NULL`, userID, purpose); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_tokens (token_hash, purpose, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			hashToken(token), purpose, userID, formatTime(now), formatTime(now.Add(ttl))); err != nil {
			return err
		}
		if render == nil {
			return nil
		}
		m, err := render(token)
		if err != nil {
			return err
		}
		return db.enqueueMail(ctx, tx, m)
	})
	if err != nil {
		return "", fmt.Errorf("create %s token: %w", purpose, err)
	}
	return token, nil
}

// tokenGone is what any unusable account token answers: unknown, used and
// expired look the same.
func tokenGone() error {
	return apperr.New(apperr.NotFound, "This link is not valid any more: it was used already, or it expired. Ask for a new one.")
}

// AccountTokenUser returns the user of a valid, unused token of purpose,
// without using it up.
func (db *DB) AccountTokenUser(ctx context.Context, purpose, token string) (*User, error) {
	var userID string
	err := db.r.GetContext(ctx, &userID, `SELECT user_id FROM account_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`,
		hashToken(token), purpose, formatTime(db.Now()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokenGone()
	}
	if err != nil {
		return nil, fmt.Errorf("find %s token: %w", purpose, err)
	}
	return db.UserByID(ctx, userID)
}

// useAccountToken marks a valid token used within tx and returns its user id.
func useAccountToken(ctx context.Context, tx *sqlx.Tx, purpose, token, now string) (string, error) {
	var userID string
	err := tx.GetContext(ctx, &userID, `UPDATE account_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		now, hashToken(token), purpose, now)
	if errors.Is(err, sql.ErrNoRows) {
		return "", tokenGone()
	}
	return userID, err
}

// VerifyEmail uses a verification token: the user's email is verified.
func (db *DB) VerifyEmail(ctx context.Context, token string) (*User, error) {
	var userID string
	now := formatTime(db.Now())
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if userID, err = useAccountToken(ctx, tx, TokenVerifyEmail, token, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ?`, now, now, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, userID)
}

// ResetPassword uses a reset token once: it sets the user's password hash,
// ends every session of the user and (the mail reached them) marks the
// email verified.
func (db *DB) ResetPassword(ctx context.Context, token, passwordHash string) (*User, error) {
	var userID string
	now := formatTime(db.Now())
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if userID, err = useAccountToken(ctx, tx, TokenResetPassword, token, now); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ?`,
			passwordHash, now, now, userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, userID)
}

// SetMailOptOut turns a user's non-security mail off (or on again).
func (db *DB) SetMailOptOut(ctx context.Context, userID string, optOut bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE users SET mail_opt_out = ?, updated_at = ? WHERE id = ?`, optOut, formatTime(db.Now()), userID)
	if err != nil {
		return fmt.Errorf("set mail opt-out: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "User not found.")
	}
	return nil
}
