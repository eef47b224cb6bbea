package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Pause tier choices of a tenant's policy.
const (
	PauseDefault = ""
	PauseOn      = "on"
	PauseOff     = "off"
)

// TenantPolicy is how one tenant sleeps when it differs from its
// environment: the zero value keeps every default.
type TenantPolicy struct {
	// Idle is the idle timeout: nil keeps the environment's, zero never
	// stops the tenant.
	Idle *time.Duration
	// Pause is PauseDefault, PauseOn or PauseOff.
	Pause string
	// KeepWarm lists the windows in which the tenant is kept running, as
	// sleep.ParseWindows reads them.
	KeepWarm  string
	UpdatedAt time.Time
	UpdatedBy string
}

// IsDefault reports whether the policy changes nothing.
func (p TenantPolicy) IsDefault() bool {
	return p.Idle == nil && p.Pause == PauseDefault && p.KeepWarm == ""
}

type policyRow struct {
	TenantID  string        `db:"tenant_id"`
	Idle      sql.NullInt64 `db:"idle_seconds"`
	Pause     string        `db:"pause"`
	KeepWarm  string        `db:"keep_warm"`
	UpdatedAt Time          `db:"updated_at"`
	UpdatedBy string        `db:"updated_by"`
}

func (r policyRow) policy() TenantPolicy {
	p := TenantPolicy{Pause: r.Pause, KeepWarm: r.KeepWarm, UpdatedAt: r.UpdatedAt.Time, UpdatedBy: r.UpdatedBy}
	if r.Idle.Valid {
		d := time.Duration(r.Idle.Int64) * time.Second
		p.Idle = &d
	}
	return p
}

// TenantPolicy returns a tenant's own sleep policy; the zero policy when it
// has none.
func (db *DB) TenantPolicy(ctx context.Context, tenantID string) (TenantPolicy, error) {
	var r policyRow
	err := db.r.GetContext(ctx, &r, `SELECT tenant_id, idle_seconds, pause, keep_warm, updated_at, updated_by
		FROM tenant_policies WHERE tenant_id = ?`, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return TenantPolicy{}, nil
	}
	if err != nil {
		return TenantPolicy{}, fmt.Errorf("policy of tenant %s: %w", tenantID, err)
	}
	return r.policy(), nil
}

// TenantPolicies returns the policies of every tenant that has one, by
// tenant id.
func (db *DB) TenantPolicies(ctx context.Context) (map[string]TenantPolicy, error) {
	var rows []policyRow
	if err := db.r.SelectContext(ctx, &rows, `SELECT tenant_id, idle_seconds, pause, keep_warm, updated_at, updated_by
		FROM tenant_policies`); err != nil {
		return nil, fmt.Errorf("list tenant policies: %w", err)
	}
	out := make(map[string]TenantPolicy, len(rows))
	for _, r := range rows {
		out[r.TenantID] = r.policy()
	}
	return out, nil
}

// SetTenantPolicy stores a tenant's policy, checked by the caller; a
// default policy removes the tenant's row.
func (db *DB) SetTenantPolicy(ctx context.Context, tenantID string, p TenantPolicy, by string) error {
	if p.Pause != PauseDefault && p.Pause != PauseOn && p.Pause != PauseOff {
		return fmt.Errorf("policy of tenant %s: pause %q is not on, off or empty", tenantID, p.Pause)
	}
	var n int
	if err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM tenants WHERE id = ? AND desired_state != 'deleted'`, tenantID); err != nil {
		return fmt.Errorf("policy of tenant %s: %w", tenantID, err)
	}
	if n == 0 {
		return NotFound(sql.ErrNoRows, "Tenant")
	}
	if p.IsDefault() {
		if _, err := db.w.ExecContext(ctx, `DELETE FROM tenant_policies WHERE tenant_id = ?`, tenantID); err != nil {
			return fmt.Errorf("reset policy of tenant %s: %w", tenantID, err)
		}
		return nil
	}
	var idle sql.NullInt64
	if p.Idle != nil {
		idle = sql.NullInt64{Int64: int64(*p.Idle / time.Second), Valid: true}
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO tenant_policies (tenant_id, idle_seconds, pause, keep_warm, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET idle_seconds = excluded.idle_seconds, pause = excluded.pause,
			keep_warm = excluded.keep_warm, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		tenantID, idle, p.Pause, p.KeepWarm, formatTime(db.Now()), by)
	if err != nil {
		return fmt.Errorf("set policy of tenant %s: %w", tenantID, err)
	}
	return nil
}
