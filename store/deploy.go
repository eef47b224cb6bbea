package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
)

// maxSlugTries bounds the slug candidates a deployment tries.
const maxSlugTries = 31

// Deployment is a tenant to write, made from an app before anything is
// saved (the orchestrator's plan), and what is written with it.
type Deployment struct {
	// Tenant is inserted with its first event; its Slug is chosen on write.
	Tenant *Tenant
	// MaxPerOwner > 0 refuses a tenant beyond that many live tenants of the
	// owner in the tenant's environment.
	MaxPerOwner int
	// Slug is the i-th slug candidate (from 0): a taken slug moves on to
	// the next, at most maxSlugTries of them.
	Slug func(i int) string
	// Finish, when set, is an app of its owner saved as finished (its
	// status and wizard step) in the same transaction.
	Finish *App
	// RestoreFrom, when set, is a backup whose data the new tenant starts
	// with: its first pass restores it before starting the replicas.
	RestoreFrom string
}

// CreateDeployment writes a deployment in one transaction: the app it
// finishes, if any, and the tenant under the first free slug candidate.
// Nothing is written when any part fails.
func (db *DB) CreateDeployment(ctx context.Context, d *Deployment) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if d.Finish != nil {
			if err := db.finishApp(ctx, tx, d.Finish); err != nil {
				return err
			}
		}
		return db.createDeployment(ctx, tx, d)
	})
}

// createDeployment inserts d's tenant within tx, trying slug candidates in
// turn. SQLite takes back only the failed statement on a constraint error,
// so the transaction goes on with the next candidate.
func (db *DB) createDeployment(ctx context.Context, tx *sqlx.Tx, d *Deployment) error {
	t := d.Tenant
	for i := 0; i < maxSlugTries; i++ {
		t.ID, t.Slug = "", d.Slug(i)
		err := db.createTenant(ctx, tx, t, d.MaxPerOwner)
		if err == nil && d.RestoreFrom != "" {
			return requestRestore(ctx, tx, db.Now(), t.ID, d.RestoreFrom, "Starts with the data of backup "+d.RestoreFrom)
		}
		if !errors.Is(err, ErrSlugTaken) {
			return err
		}
	}
	return fmt.Errorf("deploy %s: no free slug after %d tries", t.AppID, maxSlugTries-1)
}

// finishApp saves an app's status and step within tx.
func (db *DB) finishApp(ctx context.Context, tx *sqlx.Tx, a *App) error {
	a.UpdatedAt = TimeOf(db.Now())
	res, err := tx.ExecContext(ctx, `UPDATE apps SET status = ?, step = ?, updated_at = ?
		WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`, a.Status, a.Step, a.UpdatedAt, a.ID, a.OwnerID)
	if err != nil {
		return fmt.Errorf("finish app %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "App not found.")
	}
	return nil
}
