package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// SignUp writes a new account signed in, in one transaction: the user, its
// first session (whose UserID is the user's, set before the write), the
// end of the visitor's session it replaces (replacesHash, "" for none),
// the sign-in and the sign-up's webhook deliveries. A taken email writes nothing and is a conflict.
func (db *DB) SignUp(ctx context.Context, u *User, s *Session, replacesHash string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.createUser(ctx, tx, u); err != nil {
			return err
		}
		if replacesHash != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, replacesHash); err != nil {
				return fmt.Errorf("delete session: %w", err)
			}
		}
		if err := db.createSession(ctx, tx, s); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_logins (user_id, at) VALUES (?, ?)`, u.ID, formatTime(db.Now())); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		_, err := db.enqueueWebhook(ctx, tx, EventSignUp, UserEventData{User: webhookUser(u)})
		return err
	})
}
