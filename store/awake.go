package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// AwakeTime is how long a tenant was awake on Day (YYYY-MM-DD, UTC) since
// the last flush, and how much of that without use.
type AwakeTime struct {
	TenantID string
	Day      string
	Awake    time.Duration
	Unused   time.Duration
}

// RecordAwake adds a batch of awake time in one transaction.
func (db *DB) RecordAwake(ctx context.Context, batch []AwakeTime) error {
	if len(batch) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, a := range batch {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_awake (tenant_id, day, awake_seconds, unused_seconds) VALUES (?, ?, ?, ?)
				ON CONFLICT (tenant_id, day) DO UPDATE SET awake_seconds = awake_seconds + excluded.awake_seconds,
					unused_seconds = unused_seconds + excluded.unused_seconds`,
				a.TenantID, a.Day, a.Awake.Seconds(), a.Unused.Seconds()); err != nil {
				return fmt.Errorf("record awake time of %s: %w", a.TenantID, err)
			}
		}
		return nil
	})
}

// ColdStart is one activation of a tenant from sleep.
type ColdStart struct {
	At      Time    `db:"at"`
	Seconds float64 `db:"seconds"`
	WokenBy string  `db:"woken_by"`
}

// WakeReport says why a tenant is awake over a span: its cold starts and
// how long it was awake, and unused, in that span.
type WakeReport struct {
	Since      time.Time
	ColdStarts []ColdStart
	Awake      time.Duration
	Unused     time.Duration
	// Span is the time the report covers: since Since, or since the
	// tenant first ran if later (its build is not sleep); zero before.
	Span time.Duration
}

// AsleepShare is the share of the span the tenant was not awake, 0 to 1.
func (r WakeReport) AsleepShare() float64 {
	if r.Span <= 0 {
		return 0
	}
	s := 1 - r.Awake.Seconds()/r.Span.Seconds()
	return min(max(s, 0), 1)
}

// TenantWakeReport reads a tenant's cold starts and awake time since a time
// (whole days of awake time: the day of since counts whole).
func (db *DB) TenantWakeReport(ctx context.Context, tenantID string, since time.Time) (WakeReport, error) {
	r := WakeReport{Since: since}
	if err := db.r.SelectContext(ctx, &r.ColdStarts, `SELECT at, seconds, woken_by FROM activations
		WHERE tenant_id = ? AND at >= ? ORDER BY at, id`, tenantID, formatTime(since)); err != nil {
		return WakeReport{}, fmt.Errorf("cold starts of %s: %w", tenantID, err)
	}
	var sums struct {
		Awake    float64 `db:"awake"`
		Unused   float64 `db:"unused"`
		FirstRan Time    `db:"first_ran"`
	}
	if err := db.r.GetContext(ctx, &sums, `SELECT
		COALESCE((SELECT SUM(awake_seconds) FROM tenant_awake WHERE tenant_id = ?1 AND day >= ?2), 0) AS awake,
		COALESCE((SELECT SUM(unused_seconds) FROM tenant_awake WHERE tenant_id = ?1 AND day >= ?2), 0) AS unused,
		COALESCE(deployed_at, '') AS first_ran FROM tenants WHERE id = ?1`, tenantID, since.UTC().Format(time.DateOnly)); err != nil {
		return WakeReport{}, NotFound(err, "Tenant")
	}
	r.Awake = time.Duration(sums.Awake * float64(time.Second))
	r.Unused = time.Duration(sums.Unused * float64(time.Second))
	if sums.FirstRan.IsZero() {
		return r, nil // never ran yet: no span to be asleep in
	}
	from := since
	if sums.FirstRan.After(from) {
		from = sums.FirstRan.Time
	}
	r.Span = db.Now().Sub(from)
	return r, nil
}

// AwakeRank is one tenant in the ranking of time awake without use.
type AwakeRank struct {
	TenantID    string  `db:"id"`
	Slug        string  `db:"slug"`
	Title       string  `db:"title"`
	Environment string  `db:"environment"`
	State       string  `db:"state"`
	OwnerEmail  string  `db:"owner_email"`
	Awake       float64 `db:"awake"`
	Unused      float64 `db:"unused"`
}

// RankAwakeUnused lists the live tenants with the most time awake without
// use since a day, most first.
func (db *DB) RankAwakeUnused(ctx context.Context, since time.Time, limit int) ([]AwakeRank, error) {
	var out []AwakeRank
	err := db.r.SelectContext(ctx, &out, `SELECT t.id, t.slug, t.title, t.environment, t.state,
		COALESCE(u.email, '') AS owner_email, SUM(a.awake_seconds) AS awake, SUM(a.unused_seconds) AS unused
		FROM tenant_awake a JOIN tenants t ON t.id = a.tenant_id LEFT JOIN users u ON u.id = t.owner_id
		WHERE a.day >= ? AND t.desired_state != 'deleted'
		GROUP BY t.id HAVING SUM(a.unused_seconds) > 0 ORDER BY unused DESC, t.slug LIMIT ?`,
		since.UTC().Format(time.DateOnly), limit)
	if err != nil {
		return nil, fmt.Errorf("rank tenants awake without use: %w", err)
	}
	return out, nil
}
