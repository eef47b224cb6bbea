package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
)

// CustomComponent is a bundle a user uploaded, stored content-addressed by
// its sha256 under the data directory (see BlobPath).
type CustomComponent struct {
	ID          string `db:"id"`
	OwnerID     string `db:"owner_id"`
	SHA256      string `db:"sha256"`
	Name        string `db:"name"`
	Version     string `db:"version"`
	Description string `db:"description"`
	Filename    string `db:"filename"`
	// Format is the archive format: "tar.gz" or "zip".
	Format    string `db:"format"`
	Size      int64  `db:"size"`
	Files     int    `db:"files"`
	CreatedAt Time   `db:"created_at"`
}

const componentColumns = `id, owner_id, sha256, name, version, description, filename, format, size, files, created_at`

// BlobPath is where the bundle's archive lives under dataDir:
// components/<sha256[:2]>/<sha256>.<format>.
func (c *CustomComponent) BlobPath(dataDir string) string {
	return ComponentBlobPath(dataDir, c.SHA256, c.Format)
}

// ComponentBlobPath is the content-addressed path of an archive under dataDir.
func ComponentBlobPath(dataDir, sha256, format string) string {
	return filepath.Join(dataDir, "components", sha256[:2], sha256+"."+format)
}

// CreateCustomComponent records an uploaded bundle for its owner. When the
// owner already uploaded the same bytes, the existing row is returned with
// created false.
func (db *DB) CreateCustomComponent(ctx context.Context, c *CustomComponent) (stored *CustomComponent, created bool, err error) {
	if c.ID == "" {
		c.ID = NewID()
	}
	c.CreatedAt = TimeOf(db.Now())
	res, err := db.w.NamedExecContext(ctx, `INSERT INTO custom_components (`+componentColumns+`)
		VALUES (:id, :owner_id, :sha256, :name, :version, :description, :filename, :format, :size, :files, :created_at)
		ON CONFLICT (owner_id, sha256) DO NOTHING`, c)
	if err != nil {
		return nil, false, fmt.Errorf("create custom component: %w", err)
	}
	n, _ := res.RowsAffected()
	var out CustomComponent
	if err := db.w.GetContext(ctx, &out, `SELECT `+componentColumns+` FROM custom_components WHERE owner_id = ? AND sha256 = ?`, c.OwnerID, c.SHA256); err != nil {
		return nil, false, fmt.Errorf("read custom component: %w", err)
	}
	return &out, n == 1, nil
}

// CustomComponentOfOwner returns one of a user's components; anyone else's is not found.
func (db *DB) CustomComponentOfOwner(ctx context.Context, id, ownerID string) (*CustomComponent, error) {
	var c CustomComponent
	err := db.r.GetContext(ctx, &c, `SELECT `+componentColumns+` FROM custom_components WHERE id = ? AND owner_id = ?`, id, ownerID)
	if err != nil {
		return nil, NotFound(err, "Component")
	}
	return &c, nil
}

// CustomComponentsOfOwner lists a user's uploaded components, newest first.
func (db *DB) CustomComponentsOfOwner(ctx context.Context, ownerID string) ([]CustomComponent, error) {
	cs := []CustomComponent{}
	err := db.r.SelectContext(ctx, &cs, `SELECT `+componentColumns+` FROM custom_components
		WHERE owner_id = ? ORDER BY created_at DESC, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list custom components: %w", err)
	}
	return cs, nil
}

// CustomComponentsByID returns the components with the given ids, whoever
// owns them (the factory reads an app's components with it); ids that
// match nothing are left out.
func (db *DB) CustomComponentsByID(ctx context.Context, ids []string) ([]CustomComponent, error) {
	cs := []CustomComponent{}
	for _, id := range ids {
		var c CustomComponent
		err := db.r.GetContext(ctx, &c, `SELECT `+componentColumns+` FROM custom_components WHERE id = ?`, id)
		if err == nil {
			cs = append(cs, c)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("read custom component %s: %w", id, err)
		}
	}
	return cs, nil
}
