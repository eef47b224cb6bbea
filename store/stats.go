package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/domain"
)

// TenantStat is one resource sample of a tenant: the sum over its running
// containers at one minute.
type TenantStat struct {
	TenantID   string  `db:"tenant_id" json:"-"`
	At         Time    `db:"at" json:"at"`
	CPUPercent float64 `db:"cpu_percent" json:"cpu_percent"`
	MemBytes   int64   `db:"mem_bytes" json:"mem_bytes"`
}

// AddTenantStats stores samples taken at one time; a second sample of the
// same tenant and time replaces the first.
func (db *DB) AddTenantStats(ctx context.Context, at time.Time, stats []TenantStat) error {
	if len(stats) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, s := range stats {
			_, err := tx.ExecContext(ctx, `INSERT INTO tenant_stats (tenant_id, at, cpu_percent, mem_bytes) VALUES (?, ?, ?, ?)
				ON CONFLICT (tenant_id, at) DO UPDATE SET cpu_percent = excluded.cpu_percent, mem_bytes = excluded.mem_bytes`,
				s.TenantID, formatTime(at), s.CPUPercent, s.MemBytes)
			if err != nil {
				return fmt.Errorf("add tenant stats: %w", err)
			}
		}
		return nil
	})
}

// PruneTenantStats deletes samples taken before a time and says how many went.
func (db *DB) PruneTenantStats(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM tenant_stats WHERE at < ?`, formatTime(before))
	if err != nil {
		return 0, fmt.Errorf("prune tenant stats: %w", err)
	}
	return res.RowsAffected()
}

// TenantStats returns a tenant's samples since a time, oldest first.
func (db *DB) TenantStats(ctx context.Context, tenantID string, since time.Time) ([]TenantStat, error) {
	out := []TenantStat{}
	err := db.r.SelectContext(ctx, &out, `SELECT tenant_id, at, cpu_percent, mem_bytes FROM tenant_stats
		WHERE tenant_id = ? AND at >= ? ORDER BY at`, tenantID, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("tenant stats: %w", err)
	}
	return out, nil
}

// HostSample counts the tenants at one time, for the admin charts.
type HostSample struct {
	At         Time `db:"at"`
	Running    int  `db:"running"`
	Passivated int  `db:"passivated"`
	Total      int  `db:"total"`
}

// SampleHost counts running (and paused), passivated and all live tenants
// and stores the counts as the host sample of time at.
func (db *DB) SampleHost(ctx context.Context, at time.Time) (HostSample, error) {
	counts, err := db.TenantStateCounts(ctx)
	if err != nil {
		return HostSample{}, err
	}
	s := HostSample{At: TimeOf(at), Running: counts[domain.StateRunning] + counts[domain.StatePaused], Passivated: counts[domain.StatePassivated]}
	for state, n := range counts {
		if state != domain.StateDeleted {
			s.Total += n
		}
	}
	if err := db.AddHostSample(ctx, s); err != nil {
		return HostSample{}, err
	}
	return s, nil
}

// AddHostSample stores a host sample; a second sample of the same time
// replaces the first.
func (db *DB) AddHostSample(ctx context.Context, s HostSample) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO host_samples (at, running, passivated, total) VALUES (?, ?, ?, ?)
		ON CONFLICT (at) DO UPDATE SET running = excluded.running, passivated = excluded.passivated, total = excluded.total`,
		s.At, s.Running, s.Passivated, s.Total)
	if err != nil {
		return fmt.Errorf("add host sample: %w", err)
	}
	return nil
}

// HostSamples returns the host samples since a time, oldest first.
func (db *DB) HostSamples(ctx context.Context, since time.Time) ([]HostSample, error) {
	out := []HostSample{}
	err := db.r.SelectContext(ctx, &out, `SELECT at, running, passivated, total FROM host_samples WHERE at >= ? ORDER BY at`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("host samples: %w", err)
	}
	return out, nil
}

// PruneHostSamples deletes host samples taken before a time.
func (db *DB) PruneHostSamples(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM host_samples WHERE at < ?`, formatTime(before))
	if err != nil {
		return 0, fmt.Errorf("prune host samples: %w", err)
	}
	return res.RowsAffected()
}

// HourlyActivations is what happened to activations in one hour.
type HourlyActivations struct {
	Hour  time.Time
	Count int
	// P50 is the median activation time in seconds.
	P50 float64
}

// ActivationsByHour groups the activations since a time by hour (UTC),
// with their count and median duration; hours without any are present
// with zeros, so a chart shows the gaps.
func (db *DB) ActivationsByHour(ctx context.Context, since, until time.Time) ([]HourlyActivations, error) {
	var rows []struct {
		At      Time    `db:"at"`
		Seconds float64 `db:"seconds"`
	}
	err := db.r.SelectContext(ctx, &rows, `SELECT at, seconds FROM activations WHERE at >= ? AND at < ? ORDER BY at`, formatTime(since), formatTime(until))
	if err != nil {
		return nil, fmt.Errorf("activations: %w", err)
	}
	byHour := map[time.Time][]float64{}
	for _, r := range rows {
		h := r.At.Truncate(time.Hour)
		byHour[h] = append(byHour[h], r.Seconds)
	}
	var out []HourlyActivations
	for h := since.UTC().Truncate(time.Hour); h.Before(until); h = h.Add(time.Hour) {
		secs := byHour[h]
		out = append(out, HourlyActivations{Hour: h, Count: len(secs), P50: median(secs)})
	}
	return out, nil
}

// median of xs (which it sorts); zero for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
