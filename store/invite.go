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

// CreateInvite makes a one-time invitation for a user to set a password,
// valid for ttl, and returns its token (stored only as a hash). Earlier
// unused invitations of the user stop working.
func (db *DB) CreateInvite(ctx context.Context, userID, createdBy string, ttl time.Duration) (string, error) {
	var token string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		token, err = db.createInvite(ctx, tx, userID, createdBy, ttl)
		return err
	})
	return token, err
}

// CreateInviteMail is CreateInvite with the mail that carries the link
// (render makes it from the token), written in the same transaction.
func (db *DB) CreateInviteMail(ctx context.Context, userID, createdBy string, ttl time.Duration, render AccountTokenMail) (string, error) {
	var token string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if token, err = db.createInvite(ctx, tx, userID, createdBy, ttl); err != nil {
			return err
		}
		m, err := render(token)
		if err != nil {
			return err
		}
		return db.enqueueMail(ctx, tx, m)
	})
	return token, err
}

// createInvite is CreateInvite within tx.
func (db *DB) createInvite(ctx context.Context, tx *sqlx.Tx, userID, createdBy string, ttl time.Duration) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := db.Now()
	if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE user_id = ? AND used_at IS NULL`, userID); err != nil {
		return "", fmt.Errorf("create invite: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO invites (token_hash, user_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashToken(token), userID, createdBy, formatTime(now), formatTime(now.Add(ttl)))
	if err != nil {
		return "", fmt.Errorf("create invite: %w", err)
	}
	return token, nil
}

// inviteGone is what any unusable invitation answers: unknown, used or
// expired look the same.
func inviteGone() error {
	return apperr.New(apperr.NotFound, "This invitation link is not valid any more. Ask your contact for a new one, or sign in.")
}

// InviteUser returns the user a valid, unused invitation is for.
func (db *DB) InviteUser(ctx context.Context, token string) (*User, error) {
	var userID string
	err := db.r.GetContext(ctx, &userID, `SELECT user_id FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		hashToken(token), formatTime(db.Now()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, inviteGone()
	}
	if err != nil {
		return nil, fmt.Errorf("find invite: %w", err)
	}
	return db.UserByID(ctx, userID)
}

// AcceptInvite uses an invitation once: it sets the user's password hash,
// name and company, and returns the user.
func (db *DB) AcceptInvite(ctx context.Context, token, passwordHash, name, company string) (*User, error) {
	var userID string
	now := formatTime(db.Now())
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &userID, `UPDATE invites SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
			now, hashToken(token), now)
		if errors.Is(err, sql.ErrNoRows) {
			return inviteGone()
		}
		if err != nil {
			return err
		}
		// The invitation came by mail: the address is the user's.
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, name = ?, company = ?, updated_at = ?, email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?`,
			passwordHash, name, company, now, now, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, userID)
}

// InvitePending reports whether a user was invited and has not yet set a
// password through an invitation (a used one leaves no pending row).
func (db *DB) InvitePending(ctx context.Context, userID string) (bool, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM invites WHERE user_id = ? AND used_at IS NULL`, userID)
	if err != nil {
		return false, fmt.Errorf("find invite: %w", err)
	}
	return n > 0, nil
}
