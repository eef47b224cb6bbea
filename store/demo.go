package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// DemoDraft is what a sales person's demo writes before its deploy.
type DemoDraft struct {
	// Prospect owns the demo; when NewProspect it is created with the app.
	Prospect    *User
	NewProspect bool
	Template    *App
	// Name, Environment and Replicas are the copy's ("" and 0 keep the template's).
	Name        string
	Environment string
	Replicas    int
	// InvitedBy and InviteTTL make the new prospect's invitation.
	InvitedBy string
	InviteTTL time.Duration
}

// CreateDemo writes a demo in one transaction: the prospect's account when
// it is new, the app copied from the template and, for a new account, the
// invitation, whose token it returns. RemoveDemo undoes it.
func (db *DB) CreateDemo(ctx context.Context, d DemoDraft) (*App, string, error) {
	if d.NewProspect && d.Prospect.ID == "" {
		d.Prospect.ID = NewID() // the app's owner before the row exists
	}
	app := templateCopy(d.Template, d.Prospect.ID, d.Name)
	if d.Environment != "" {
		app.Environment = d.Environment
	}
	if d.Replicas > 0 {
		app.Replicas = d.Replicas
	}
	var token string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if d.NewProspect {
			if err := db.createUser(ctx, tx, d.Prospect); err != nil {
				return err
			}
		}
		if err := db.createApp(ctx, tx, app); err != nil {
			return err
		}
		if !d.NewProspect {
			return nil
		}
		var err error
		token, err = db.createInvite(ctx, tx, d.Prospect.ID, d.InvitedBy, d.InviteTTL)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return app, token, nil
}

// RemoveDemo takes back, in one transaction, what CreateDemo wrote for a
// demo whose deploy failed: the app and, when the account was made for it,
// the prospect with their invitation. An app that has a tenant is kept.
func (db *DB) RemoveDemo(ctx context.Context, appID, prospectID string, newProspect bool) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM apps WHERE id = ? AND owner_id = ?
			AND NOT EXISTS (SELECT 1 FROM tenants WHERE app_id = apps.id)`, appID, prospectID); err != nil {
			return err
		}
		if !newProspect {
			return nil
		}
		// Invitations go with the account (ON DELETE CASCADE); a tenant
		// of the account would make this fail, and keep everything.
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ? AND role = ?`, prospectID, RoleProspect)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove demo app %s: %w", appID, err)
	}
	return nil
}

// templateCopy is a ready app owned by ownerID, named name, copied from a
// template that it remembers as its parent.
func templateCopy(tpl *App, ownerID, name string) *App {
	c := *tpl
	c.ID, c.OwnerID, c.Name = "", ownerID, name
	c.Status, c.Step, c.Revision = AppReady, 1, 1
	c.IsTemplate = false
	c.ParentID = sql.NullString{String: tpl.ID, Valid: true}
	c.DeployRequestedAt = Time{}
	return &c
}
