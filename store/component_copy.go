package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
)

// ComponentCopy is an uploaded component of a template as the prospect's
// app of a demo holds it: a new row owned by the prospect that references
// the same stored archive (the same sha256), written with the demo.
type ComponentCopy struct {
	// Component is the new row, its ID set before the write.
	Component CustomComponent
	// SourceID is the template's component it copies.
	SourceID string
}

// PlanComponentCopies maps a template's uploaded components (ids) to
// components of ownerID, writing nothing: one the owner already has (the
// same id, or an upload of the same bytes) is kept, any other is planned
// as a copy for CreateDemo to write. It returns the ids the owner's app
// holds, in the template's order, and the copies.
func (db *DB) PlanComponentCopies(ctx context.Context, ids []string, ownerID string) ([]string, []ComponentCopy, error) {
	out := make([]string, 0, len(ids))
	var copies []ComponentCopy
	for _, id := range ids {
		var src CustomComponent
		if err := db.r.GetContext(ctx, &src, `SELECT `+componentColumns+` FROM custom_components WHERE id = ?`, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, nil, apperr.New(apperr.Unprocessable, "An uploaded component of this template no longer exists.")
			}
			return nil, nil, fmt.Errorf("read custom component %s: %w", id, err)
		}
		if src.OwnerID == ownerID {
			out = append(out, src.ID)
			continue
		}
		var own string
		err := db.r.GetContext(ctx, &own, `SELECT id FROM custom_components WHERE owner_id = ? AND sha256 = ?`, ownerID, src.SHA256)
		if err == nil {
			out = append(out, own)
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fmt.Errorf("find the owner's component %s: %w", src.SHA256, err)
		}
		c := src
		c.ID, c.OwnerID = NewID(), ownerID
		copies = append(copies, ComponentCopy{Component: c, SourceID: src.ID})
		out = append(out, c.ID)
	}
	return out, copies, nil
}

// copyComponent writes a planned copy inside tx, from the source row as it
// is now: a source gone or holding other bytes than planned (its sha256
// checked) fails the copy, and with it the transaction.
func (db *DB) copyComponent(ctx context.Context, tx *sqlx.Tx, cp ComponentCopy) error {
	c := cp.Component
	res, err := tx.ExecContext(ctx, `INSERT INTO custom_components (`+componentColumns+`)
		SELECT ?, ?, sha256, name, version, description, filename, format, size, files, ?
		FROM custom_components WHERE id = ? AND sha256 = ?`,
		c.ID, c.OwnerID, formatTime(db.Now()), cp.SourceID, c.SHA256)
	if IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "The component %s was just uploaded to this account: try again.", c.Name)
	}
	if err != nil {
		return fmt.Errorf("copy custom component %s: %w", cp.SourceID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Unprocessable, "The template's uploaded component %s changed or is gone: try again.", c.Name)
	}
	return nil
}
