package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// DemoDraft is what a sales person's demo writes, all at once.
type DemoDraft struct {
	// Prospect owns the demo; when NewProspect it is created with the app.
	// A new prospect's ID is set before the write (the app's owner).
	Prospect    *User
	NewProspect bool
	// App is the copy of the template (TemplateCopy) the demo runs, its ID
	// set before the write (the tenant's app).
	App *App
	// InvitedBy and InviteTTL make the new prospect's invitation.
	InvitedBy string
	InviteTTL time.Duration
	// Components are the template's uploaded components copied to the
	// prospect (PlanComponentCopies), which App refers to.
	Components []ComponentCopy
	// Deployment is the demo's tenant, a deployment of App.
	Deployment *Deployment
}

// CreateDemo writes a demo in one transaction: the prospect's account when
// it is new, the template's uploaded components copied to it, the app
// copied from the template, for a new account the invitation, whose token
// it returns, and the tenant that deploys the app.
// A demo is written whole or not at all.
func (db *DB) CreateDemo(ctx context.Context, d DemoDraft) (string, error) {
	var token string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if d.NewProspect {
			if err := db.createUser(ctx, tx, d.Prospect); err != nil {
				return err
			}
		}
		for _, c := range d.Components {
			if err := db.copyComponent(ctx, tx, c); err != nil {
				return err
			}
		}
		if err := db.createApp(ctx, tx, d.App); err != nil {
			return err
		}
		if d.NewProspect {
			var err error
			if token, err = db.createInvite(ctx, tx, d.Prospect.ID, d.InvitedBy, d.InviteTTL); err != nil {
				return err
			}
		}
		return db.createDeployment(ctx, tx, d.Deployment)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// TemplateCopy is a ready app, not yet saved, owned by ownerID, named
// name, copied from a template that it remembers as its parent. Its ID is
// set, so that a deployment of it can be made before it is written.
func TemplateCopy(tpl *App, ownerID, name string) *App {
	c := *tpl
	c.ID, c.OwnerID, c.Name = NewID(), ownerID, name
	c.Status, c.Step, c.Revision = AppReady, 1, 1
	c.IsTemplate = false
	c.ParentID = sql.NullString{String: tpl.ID, Valid: true}
	c.DeployRequestedAt = Time{}
	return &c
}
