package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
	"appfactory/domain"
)

// App statuses: a draft is being assembled; a ready app is complete and can
// be deployed.
const (
	AppDraft = "draft"
	AppReady = "ready"
)

// App is an assembly: platform, version, components, custom components,
// application model, environment and replicas. The lists and the model are
// JSON text columns; use the typed accessors.
type App struct {
	ID                   string         `db:"id"`
	OwnerID              string         `db:"owner_id"`
	Name                 string         `db:"name"`
	Status               string         `db:"status"`
	Step                 int            `db:"step"`
	Platform             string         `db:"platform"`
	Version              string         `db:"version"`
	ComponentsJSON       string         `db:"components"`
	CustomComponentsJSON string         `db:"custom_components"`
	ModelJSON            string         `db:"model"`
	Environment          string         `db:"environment"`
	Replicas             int            `db:"replicas"`
	IsTemplate           bool           `db:"is_template"`
	ParentID             sql.NullString `db:"parent_id"`
	Revision             int            `db:"revision"`
	DeployRequestedAt    Time           `db:"deploy_requested_at"`
	CreatedAt            Time           `db:"created_at"`
	UpdatedAt            Time           `db:"updated_at"`
}

// appColumns lists the columns App scans, so that columns added later by
// other features do not break the scan.
const appColumns = `id, owner_id, name, status, step, platform, version, components, custom_components,
	model, environment, replicas, is_template, parent_id, revision, deploy_requested_at, created_at, updated_at`

// IsDraft reports whether the app is still being assembled.
func (a *App) IsDraft() bool { return a.Status == AppDraft }

// Components are the ids of the catalog components chosen.
func (a *App) Components() []string { return jsonList(a.ComponentsJSON) }

// SetComponents replaces the catalog components.
func (a *App) SetComponents(ids []string) { a.ComponentsJSON = listJSON(ids) }

// CustomComponents are the ids of the owner's uploaded components chosen.
func (a *App) CustomComponents() []string { return jsonList(a.CustomComponentsJSON) }

// SetCustomComponents replaces the uploaded components.
func (a *App) SetCustomComponents(ids []string) { a.CustomComponentsJSON = listJSON(ids) }

// Model is the application model; an unreadable column gives the zero model.
func (a *App) Model() domain.Model {
	var m domain.Model
	_ = json.Unmarshal([]byte(a.ModelJSON), &m)
	return m
}

// SetModel replaces the application model.
func (a *App) SetModel(m domain.Model) {
	b, _ := json.Marshal(m)
	a.ModelJSON = string(b)
}

func jsonList(s string) []string {
	var l []string
	_ = json.Unmarshal([]byte(s), &l)
	if l == nil {
		l = []string{}
	}
	return l
}

func listJSON(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// normalize fills the defaults a new row needs.
func (a *App) normalize() {
	if a.Status == "" {
		a.Status = AppDraft
	}
	if a.Step < 1 {
		a.Step = 1
	}
	if a.ComponentsJSON == "" {
		a.ComponentsJSON = "[]"
	}
	if a.CustomComponentsJSON == "" {
		a.CustomComponentsJSON = "[]"
	}
	if a.ModelJSON == "" {
		a.ModelJSON = "{}"
	}
	if a.Replicas < 1 {
		a.Replicas = 1
	}
	if a.Revision < 1 {
		a.Revision = 1
	}
}

// CreateApp inserts a new app, giving it an id and times when unset.
func (db *DB) CreateApp(ctx context.Context, a *App) error {
	return db.createApp(ctx, db.w, a)
}

// createApp is CreateApp through e: the writer or a transaction of it.
func (db *DB) createApp(ctx context.Context, e sqlx.ExtContext, a *App) error {
	if a.ID == "" {
		a.ID = NewID()
	}
	a.normalize()
	now := TimeOf(db.Now())
	a.CreatedAt, a.UpdatedAt = now, now
	_, err := sqlx.NamedExecContext(ctx, e, `INSERT INTO apps (`+appColumns+`) VALUES (:id, :owner_id, :name, :status, :step,
		:platform, :version, :components, :custom_components, :model, :environment, :replicas, :is_template,
		:parent_id, :revision, :deploy_requested_at, :created_at, :updated_at)`, a)
	if err != nil {
		return fmt.Errorf("create app: %w", err)
	}
	return nil
}

// UpdateApp saves every editable column of an app of its owner.
func (db *DB) UpdateApp(ctx context.Context, a *App) error {
	a.normalize()
	a.UpdatedAt = TimeOf(db.Now())
	res, err := db.w.NamedExecContext(ctx, `UPDATE apps SET name = :name, status = :status, step = :step,
		platform = :platform, version = :version, components = :components, custom_components = :custom_components,
		model = :model, environment = :environment, replicas = :replicas, deploy_requested_at = :deploy_requested_at,
		updated_at = :updated_at
		WHERE id = :id AND owner_id = :owner_id AND deleted_at IS NULL`, a)
	if err != nil {
		return fmt.Errorf("update app %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "App not found.")
	}
	return nil
}

// AppOfOwner returns an app by id if ownerID owns it; anyone else's is not found.
func (db *DB) AppOfOwner(ctx context.Context, id, ownerID string) (*App, error) {
	var a App
	err := db.r.GetContext(ctx, &a, `SELECT `+appColumns+` FROM apps WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`, id, ownerID)
	if err != nil {
		return nil, NotFound(err, "App")
	}
	return &a, nil
}

// AppByID returns any app by id, for staff (sales and admins) and the factory.
func (db *DB) AppByID(ctx context.Context, id string) (*App, error) {
	var a App
	err := db.r.GetContext(ctx, &a, `SELECT `+appColumns+` FROM apps WHERE id = ? AND deleted_at IS NULL`, id)
	if err != nil {
		return nil, NotFound(err, "App")
	}
	return &a, nil
}

// AppsOfOwner lists a user's apps, most recently changed first.
func (db *DB) AppsOfOwner(ctx context.Context, ownerID string) ([]App, error) {
	apps := []App{}
	err := db.r.SelectContext(ctx, &apps, `SELECT `+appColumns+` FROM apps
		WHERE owner_id = ? AND deleted_at IS NULL ORDER BY updated_at DESC, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return apps, nil
}

// AllApps lists every app, most recently changed first, for admins.
func (db *DB) AllApps(ctx context.Context) ([]App, error) {
	apps := []App{}
	err := db.r.SelectContext(ctx, &apps, `SELECT `+appColumns+` FROM apps WHERE deleted_at IS NULL ORDER BY updated_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return apps, nil
}

// LatestDraft returns the user's most recently changed draft, or nil.
func (db *DB) LatestDraft(ctx context.Context, ownerID string) (*App, error) {
	var a App
	err := db.r.GetContext(ctx, &a, `SELECT `+appColumns+` FROM apps
		WHERE owner_id = ? AND status = 'draft' AND deleted_at IS NULL ORDER BY updated_at DESC, id LIMIT 1`, ownerID)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest draft: %w", err)
	}
	return &a, nil
}

// CopyApp makes a new draft from src for its owner: a duplicate (revision 1,
// the given name) or, with newVersion, the next revision under the same name.
// The copy remembers src as its parent.
func (db *DB) CopyApp(ctx context.Context, src *App, name string, newVersion bool) (*App, error) {
	c := *src
	c.ID = ""
	c.Name = name
	c.Status = AppDraft
	c.Step = 1
	c.IsTemplate = false
	c.ParentID = sql.NullString{String: src.ID, Valid: true}
	c.DeployRequestedAt = Time{}
	c.Revision = 1
	if newVersion {
		c.Name = src.Name
		c.Revision = src.Revision + 1
	}
	if err := db.CreateApp(ctx, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// LiveTenantCount counts an app's tenants that are not deleted.
func (db *DB) LiveTenantCount(ctx context.Context, appID string) (int, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM tenants WHERE app_id = ? AND desired_state != 'deleted'`, appID)
	return n, err
}

// DeleteApp removes an app of its owner. An app with live tenants is a
// conflict; one whose tenants are all deleted is hidden, so that their rows
// keep pointing at it.
func (db *DB) DeleteApp(ctx context.Context, id, ownerID string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var owned int
		if err := tx.GetContext(ctx, &owned, `SELECT COUNT(*) FROM apps WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`, id, ownerID); err != nil {
			return fmt.Errorf("find app %s: %w", id, err)
		}
		if owned == 0 {
			return apperr.New(apperr.NotFound, "App not found.")
		}
		var live, all int
		err := tx.QueryRowxContext(ctx, `SELECT COUNT(*), COALESCE(SUM(desired_state != 'deleted'), 0) FROM tenants WHERE app_id = ?`, id).Scan(&all, &live)
		if err != nil {
			return fmt.Errorf("count tenants of app %s: %w", id, err)
		}
		if live > 0 {
			return apperr.New(apperr.Conflict, "This app has %d live deployment(s); delete them first.", live)
		}
		var res sql.Result
		if all > 0 {
			res, err = tx.ExecContext(ctx, `UPDATE apps SET deleted_at = ? WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`, formatTime(db.Now()), id, ownerID)
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM apps WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`, id, ownerID)
		}
		if err != nil {
			return fmt.Errorf("delete app %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "App not found.")
		}
		return nil
	})
}
