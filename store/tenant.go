package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
	"appfactory/domain"
)

// ErrSlugTaken is returned by CreateTenant when another tenant holds the slug.
var ErrSlugTaken = errors.New("slug taken")

// Tenant is one deployment of an app: desired state (written by users),
// actual state (written by the reconciler) and what the stack is made from.
type Tenant struct {
	ID          string `db:"id"`
	AppID       string `db:"app_id"`
	OwnerID     string `db:"owner_id"`
	CreatedBy   string `db:"created_by"`
	Slug        string `db:"slug"`
	Title       string `db:"title"`
	Platform    string `db:"platform"`
	Version     string `db:"version"`
	Environment string `db:"environment"`
	Replicas    int    `db:"replicas"`
	// Image is the tag of the tenant's built image; empty until built (and
	// again after an upgrade asks for a rebuild).
	Image string `db:"image"`
	// Subnet is the tenant network's IPv4 prefix from the pool; empty until allocated.
	Subnet       string `db:"subnet"`
	DesiredState string `db:"desired_state"`
	State        string `db:"state"`
	StateMessage string `db:"state_message"`
	// Generation changes whenever the containers must be replaced.
	Generation int64 `db:"generation"`
	// Failures counts reconcile attempts failed in a row.
	Failures int `db:"failures"`
	// Paused asks for frozen containers while DesiredState is running.
	Paused bool `db:"paused"`
	// Assembly is the JSON of what the image is built from (a domain.Assembly).
	Assembly     string `db:"assembly"`
	CreatedAt    Time   `db:"created_at"`
	UpdatedAt    Time   `db:"updated_at"`
	ExpiresAt    Time   `db:"expires_at"`
	LastActiveAt Time   `db:"last_active_at"`
	// LastRequest is the latest real request in words.
	LastRequest string `db:"last_request"`
	DeletedAt   Time   `db:"deleted_at"`
}

// Cleaned reports whether the tenant is deleted and its Docker objects gone.
func (t *Tenant) Cleaned() bool {
	return t.DesiredState == domain.DesiredDeleted && t.State == domain.StateDeleted
}

// Settled reports whether the tenant's state no longer changes by itself:
// polling pages stop at a settled state.
func (t *Tenant) Settled() bool {
	switch t.State {
	case domain.StateRunning, domain.StatePaused, domain.StatePassivated, domain.StateFailed, domain.StateExpired, domain.StateDeleted:
		return true
	}
	return false
}

const tenantColumns = `id, app_id, owner_id, created_by, slug, title, platform, version, environment,
	replicas, image, subnet, desired_state, state, state_message, generation, failures, paused,
	assembly, created_at, updated_at, expires_at, last_active_at, last_request, deleted_at`

// CreateTenant inserts t (ID and times are filled in when empty) and records
// its first event. maxPerOwner > 0 refuses a tenant beyond that many live
// tenants of the owner in the same environment. A taken slug gives an error
// matching ErrSlugTaken, so the caller can try the next candidate.
func (db *DB) CreateTenant(ctx context.Context, t *Tenant, maxPerOwner int) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error { return db.createTenant(ctx, tx, t, maxPerOwner) })
}

// createTenant is CreateTenant within tx.
func (db *DB) createTenant(ctx context.Context, tx *sqlx.Tx, t *Tenant, maxPerOwner int) error {
	now := db.Now()
	if t.ID == "" {
		t.ID = NewID()
	}
	if t.State == "" {
		t.State = domain.StatePending
	}
	if t.DesiredState == "" {
		t.DesiredState = domain.DesiredRunning
	}
	if t.Generation == 0 {
		t.Generation = 1
	}
	if t.Assembly == "" {
		t.Assembly = "{}"
	}
	t.CreatedAt, t.UpdatedAt = TimeOf(now), TimeOf(now)
	if maxPerOwner > 0 {
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM tenants WHERE owner_id = ? AND environment = ? AND desired_state != 'deleted'`, t.OwnerID, t.Environment); err != nil {
			return fmt.Errorf("count tenants: %w", err)
		}
		if n >= maxPerOwner {
			return apperr.New(apperr.Unprocessable, "You already have %d %s deployment(s), the most this environment allows. Delete one before deploying another.", n, t.Environment)
		}
	}
	_, err := tx.NamedExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (
		:id, :app_id, :owner_id, :created_by, :slug, :title, :platform, :version, :environment,
		:replicas, :image, :subnet, :desired_state, :state, :state_message, :generation, :failures, :paused,
		:assembly, :created_at, :updated_at, :expires_at, :last_active_at, :last_request, :deleted_at)`, t)
	if IsUniqueViolation(err) {
		return fmt.Errorf("create tenant %s: %w", t.Slug, ErrSlugTaken)
	}
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	return addEvent(ctx, tx, t.ID, now, domain.EventState, fmt.Sprintf("Deployment %s created (%s %s, %s, %s)", t.Slug, t.Platform, t.Version, t.Environment, replicasText(t.Replicas)))
}

// TenantByID returns a tenant, deleted ones included.
func (db *DB) TenantByID(ctx context.Context, id string) (*Tenant, error) {
	var t Tenant
	err := db.r.GetContext(ctx, &t, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id)
	if err != nil {
		return nil, NotFound(err, "Deployment")
	}
	return &t, nil
}

// TenantBySlug returns the tenant holding a slug, deleted ones included.
func (db *DB) TenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	err := db.r.GetContext(ctx, &t, `SELECT `+tenantColumns+` FROM tenants WHERE slug = ?`, slug)
	if err != nil {
		return nil, NotFound(err, "Deployment")
	}
	return &t, nil
}

// SlugExists reports whether any tenant, deleted or not, holds the slug.
func (db *DB) SlugExists(ctx context.Context, slug string) (bool, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM tenants WHERE slug = ?`, slug)
	return n > 0, err
}

// TenantFilter selects tenants for ListTenants; zero fields select all.
type TenantFilter struct {
	OwnerID string
	// VisibleTo selects the tenants a user owns or created.
	VisibleTo string
	AppID     string
	// IncludeDeleted also lists tenants whose deletion is complete.
	IncludeDeleted bool
	Limit          int
}

// ListTenants lists tenants, newest first.
func (db *DB) ListTenants(ctx context.Context, f TenantFilter) ([]Tenant, error) {
	var where []string
	var args []any
	if f.OwnerID != "" {
		where = append(where, "owner_id = ?")
		args = append(args, f.OwnerID)
	}
	if f.VisibleTo != "" {
		where = append(where, "(owner_id = ? OR created_by = ?)")
		args = append(args, f.VisibleTo, f.VisibleTo)
	}
	if f.AppID != "" {
		where = append(where, "app_id = ?")
		args = append(args, f.AppID)
	}
	if !f.IncludeDeleted {
		where = append(where, "NOT (desired_state = 'deleted' AND state = 'deleted')")
	}
	q := `SELECT ` + tenantColumns + ` FROM tenants`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var out []Tenant
	if err := db.r.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// TenantsForReconcile lists every tenant the reconciler still has work or
// watch over: all but those deleted and cleaned up.
func (db *DB) TenantsForReconcile(ctx context.Context) ([]Tenant, error) {
	var out []Tenant
	err := db.r.SelectContext(ctx, &out, `SELECT `+tenantColumns+` FROM tenants
		WHERE desired_state != 'deleted' OR state != 'deleted' ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("tenants for reconcile: %w", err)
	}
	return out, nil
}

// SetTenantState writes the actual state and its message and records the
// transition as an event; the first time a tenant runs, its deployed
// webhook is queued with it. Writing the state and message a tenant already
// has changes nothing and records nothing.
func (db *DB) SetTenantState(ctx context.Context, id, state, message string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var cur struct {
			State   string `db:"state"`
			Message string `db:"state_message"`
		}
		if err := tx.GetContext(ctx, &cur, `SELECT state, state_message FROM tenants WHERE id = ?`, id); err != nil {
			return NotFound(err, "Deployment")
		}
		if cur.State == state && cur.Message == message {
			return nil
		}
		now := db.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET state = ?, state_message = ?, updated_at = ? WHERE id = ?`, state, message, formatTime(now), id); err != nil {
			return fmt.Errorf("set tenant state: %w", err)
		}
		ev := state
		if cur.State != state {
			ev = cur.State + " → " + state
		}
		if message != "" {
			ev += ": " + message
		}
		if err := addEvent(ctx, tx, id, now, domain.EventState, ev); err != nil {
			return err
		}
		if state != domain.StateRunning {
			return nil
		}
		return db.markDeployed(ctx, tx, id, now)
	})
}

// SetDesiredState writes what the tenant should be (running, passivated or
// deleted) and records it. Asking for deletion stamps deleted_at, clears
// the pause flag and queues the deleted webhook.
func (db *DB) SetDesiredState(ctx context.Context, id, desired string) error {
	switch desired {
	case domain.DesiredRunning, domain.DesiredPassivated, domain.DesiredDeleted:
	default:
		return fmt.Errorf("set desired state: unknown state %q", desired)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var cur string
		if err := tx.GetContext(ctx, &cur, `SELECT desired_state FROM tenants WHERE id = ?`, id); err != nil {
			return NotFound(err, "Deployment")
		}
		if cur == desired {
			return nil
		}
		if cur == domain.DesiredDeleted {
			return apperr.New(apperr.Conflict, "This deployment is deleted.")
		}
		now := db.Now()
		q := `UPDATE tenants SET desired_state = ?, failures = 0, updated_at = ? WHERE id = ?`
		if desired == domain.DesiredDeleted {
			q = `UPDATE tenants SET desired_state = ?, failures = 0, paused = 0, updated_at = ?, deleted_at = ? WHERE id = ?`
			if _, err := tx.ExecContext(ctx, q, desired, formatTime(now), formatTime(now), id); err != nil {
				return fmt.Errorf("set desired state: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, q, desired, formatTime(now), id); err != nil {
			return fmt.Errorf("set desired state: %w", err)
		}
		if err := addEvent(ctx, tx, id, now, domain.EventDesired, "Desired state set to "+desired); err != nil {
			return err
		}
		if desired != domain.DesiredDeleted {
			return nil
		}
		return db.enqueueTenantEvent(ctx, tx, EventDeleted, id)
	})
}

// markDeployed stamps the first time a tenant runs and queues its deployed
// webhook then, and only then.
func (db *DB) markDeployed(ctx context.Context, tx *sqlx.Tx, id string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE tenants SET deployed_at = ? WHERE id = ? AND deployed_at IS NULL`, formatTime(now), id)
	if err != nil {
		return fmt.Errorf("mark tenant deployed: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return db.enqueueTenantEvent(ctx, tx, EventDeployed, id)
}

// SetTenantPaused writes the sleep-tier flag.
func (db *DB) SetTenantPaused(ctx context.Context, id string, paused bool) error {
	_, err := db.w.ExecContext(ctx, `UPDATE tenants SET paused = ?, updated_at = ? WHERE id = ?`, paused, formatTime(db.Now()), id)
	if err != nil {
		return fmt.Errorf("set tenant paused: %w", err)
	}
	return nil
}

// SetTenantImage records the tag of the tenant's built image.
func (db *DB) SetTenantImage(ctx context.Context, id, image string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE tenants SET image = ?, updated_at = ? WHERE id = ?`, image, formatTime(db.Now()), id)
	if err != nil {
		return fmt.Errorf("set tenant image: %w", err)
	}
	return nil
}

// ImageUsers counts the tenants that still use an image: every tenant not
// both deleted and cleaned up whose recorded image is ref.
func (db *DB) ImageUsers(ctx context.Context, ref string) (int, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM tenants WHERE image = ? AND NOT (desired_state = ? AND state = ?)`, ref, domain.DesiredDeleted, domain.StateDeleted)
	if err != nil {
		return 0, fmt.Errorf("count image users: %w", err)
	}
	return n, nil
}

// SetTenantFailures records how many reconcile attempts failed in a row.
func (db *DB) SetTenantFailures(ctx context.Context, id string, n int) error {
	_, err := db.w.ExecContext(ctx, `UPDATE tenants SET failures = ? WHERE id = ? AND failures != ?`, n, id, n)
	if err != nil {
		return fmt.Errorf("set tenant failures: %w", err)
	}
	return nil
}

// BumpGeneration asks for the tenant's containers to be replaced: on a new
// version (rebuilding the image) when version is not empty, else on the same
// image. The reason is recorded as an event.
func (db *DB) BumpGeneration(ctx context.Context, id, version, reason string) (int64, error) {
	var gen int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		gen, err = bumpGeneration(ctx, tx, db.Now(), id, version, reason)
		return err
	})
	return gen, err
}

// bumpGeneration is BumpGeneration inside a transaction of the caller's.
func bumpGeneration(ctx context.Context, tx *sqlx.Tx, now time.Time, id, version, reason string) (int64, error) {
	var desired string
	if err := tx.GetContext(ctx, &desired, `SELECT desired_state FROM tenants WHERE id = ?`, id); err != nil {
		return 0, NotFound(err, "Deployment")
	}
	if desired == domain.DesiredDeleted {
		return 0, apperr.New(apperr.Conflict, "This deployment is deleted.")
	}
	var err error
	if version != "" {
		_, err = tx.ExecContext(ctx, `UPDATE tenants SET generation = generation + 1, version = ?, image = '', failures = 0, updated_at = ? WHERE id = ?`, version, formatTime(now), id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE tenants SET generation = generation + 1, failures = 0, updated_at = ? WHERE id = ?`, formatTime(now), id)
	}
	if err != nil {
		return 0, fmt.Errorf("bump generation: %w", err)
	}
	var gen int64
	if err := tx.GetContext(ctx, &gen, `SELECT generation FROM tenants WHERE id = ?`, id); err != nil {
		return 0, err
	}
	return gen, addEvent(ctx, tx, id, now, domain.EventDesired, fmt.Sprintf("%s (generation %d)", reason, gen))
}

// TouchTenant stamps last_active_at (the router batches these).
func (db *DB) TouchTenant(ctx context.Context, id string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE tenants SET last_active_at = ? WHERE id = ? AND (last_active_at IS NULL OR last_active_at < ?)`, formatTime(at), id, formatTime(at))
	if err != nil {
		return fmt.Errorf("touch tenant: %w", err)
	}
	return nil
}

// replicasText says "1 replica" or "n replicas".
func replicasText(n int) string {
	if n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}
