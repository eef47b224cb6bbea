package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// SleepCandidate is what the passivator needs to know of a live tenant.
type SleepCandidate struct {
	ID           string `db:"id"`
	Slug         string `db:"slug"`
	Environment  string `db:"environment"`
	DesiredState string `db:"desired_state"`
	State        string `db:"state"`
	ExpiresAt    Time   `db:"expires_at"`
}

// SleepCandidates lists the tenants that are not deleted, for the
// passivator's idle and expiry checks.
func (db *DB) SleepCandidates(ctx context.Context) ([]SleepCandidate, error) {
	var out []SleepCandidate
	err := db.r.SelectContext(ctx, &out, `SELECT id, slug, environment, desired_state, state, expires_at
		FROM tenants WHERE desired_state != 'deleted' AND deleted_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("list sleep candidates: %w", err)
	}
	return out, nil
}

// ExtendTenant pushes a tenant's expiry to days after the later of now and
// its current expiry, and returns the new expiry with the tenant's state. A
// tenant without an expiry gets one days from now. The trial-extended
// webhook is queued with the new expiry.
func (db *DB) ExtendTenant(ctx context.Context, tenantID string, days int) (until time.Time, state string, err error) {
	var cur struct {
		ExpiresAt Time   `db:"expires_at"`
		State     string `db:"state"`
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &cur, `SELECT expires_at, state FROM tenants WHERE id = ? AND desired_state != 'deleted'`, tenantID); err != nil {
			return NotFound(err, "Tenant")
		}
		base := db.Now()
		if cur.ExpiresAt.After(base) {
			base = cur.ExpiresAt.Time
		}
		until = base.Add(time.Duration(days) * 24 * time.Hour)
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET expires_at = ?, updated_at = ? WHERE id = ?`,
			formatTime(until), formatTime(db.Now()), tenantID); err != nil {
			return fmt.Errorf("extend tenant %s: %w", tenantID, err)
		}
		return db.enqueueTenantEvent(ctx, tx, EventTrialExtended, tenantID)
	})
	return until, cur.State, err
}

// SetTenantExpiry sets when a tenant expires, whatever it was before; the
// zero time for never. ExtendTenant is how a user pushes it later.
func (db *DB) SetTenantExpiry(ctx context.Context, tenantID string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE tenants SET expires_at = ?, updated_at = ? WHERE id = ?`,
		TimeOf(at), formatTime(db.Now()), tenantID)
	if err != nil {
		return fmt.Errorf("set expiry of tenant %s: %w", tenantID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return NotFound(sql.ErrNoRows, "Tenant")
	}
	return nil
}

// EnvSetting is an environment's run-time setting.
type EnvSetting struct {
	Environment  string `db:"environment"`
	PauseEnabled bool   `db:"pause_enabled"`
	UpdatedAt    Time   `db:"updated_at"`
}

// EnvSettings returns the settings of every environment that has any, by id.
func (db *DB) EnvSettings(ctx context.Context) (map[string]EnvSetting, error) {
	var rows []EnvSetting
	if err := db.r.SelectContext(ctx, &rows, `SELECT environment, pause_enabled, updated_at FROM env_settings`); err != nil {
		return nil, fmt.Errorf("list environment settings: %w", err)
	}
	out := make(map[string]EnvSetting, len(rows))
	for _, r := range rows {
		out[r.Environment] = r
	}
	return out, nil
}

// SetPauseEnabled turns the pause tier of an environment on or off.
func (db *DB) SetPauseEnabled(ctx context.Context, environment string, enabled bool) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO env_settings (environment, pause_enabled, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (environment) DO UPDATE SET pause_enabled = excluded.pause_enabled, updated_at = excluded.updated_at`,
		environment, enabled, formatTime(db.Now()))
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", environment, err)
	}
	return nil
}
