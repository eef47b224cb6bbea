package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Results of a build.
const (
	BuildRunning = "running"
	BuildOK      = "ok"
	BuildReused  = "reused"
	BuildFailed  = "failed"
)

// maxBuildLog is how much of a build's output is kept: the tail, which holds
// the failing step when there is one.
const maxBuildLog = 64 << 10

// Build is an image build for a tenant, with the tail of its output.
type Build struct {
	ID         int64  `db:"id"`
	TenantID   string `db:"tenant_id"`
	Tag        string `db:"tag"`
	Result     string `db:"result"`
	Log        string `db:"log"`
	Generation int64  `db:"generation"`
	StartedAt  Time   `db:"started_at"`
	EndedAt    Time   `db:"ended_at"`
}

// StartBuild records a build beginning and returns its id.
func (db *DB) StartBuild(ctx context.Context, tenantID, tag string, generation int64) (int64, error) {
	res, err := db.w.ExecContext(ctx, `INSERT INTO builds (tenant_id, tag, result, log, generation, started_at) VALUES (?, ?, 'running', '', ?, ?)`,
		tenantID, tag, generation, formatTime(db.Now()))
	if err != nil {
		return 0, fmt.Errorf("start build: %w", err)
	}
	return res.LastInsertId()
}

// AppendBuildLog adds output to a build, keeping the last 64 KiB.
func (db *DB) AppendBuildLog(ctx context.Context, id int64, text string) error {
	if text == "" {
		return nil
	}
	_, err := db.w.ExecContext(ctx, `UPDATE builds SET log = substr(log || ?, -?) WHERE id = ?`, text, maxBuildLog, id)
	if err != nil {
		return fmt.Errorf("append build log: %w", err)
	}
	return nil
}

// FinishBuild records a build's result (ok, reused or failed).
func (db *DB) FinishBuild(ctx context.Context, id int64, result string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE builds SET result = ?, ended_at = ? WHERE id = ?`, result, formatTime(db.Now()), id)
	if err != nil {
		return fmt.Errorf("finish build: %w", err)
	}
	return nil
}

// LastBuild returns the tenant's latest build; nil when it has none.
func (db *DB) LastBuild(ctx context.Context, tenantID string) (*Build, error) {
	var b Build
	err := db.r.GetContext(ctx, &b, `SELECT id, tenant_id, tag, result, log, generation, started_at, ended_at FROM builds WHERE tenant_id = ? ORDER BY id DESC LIMIT 1`, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last build: %w", err)
	}
	return &b, nil
}

// InterruptBuilds marks the builds a stopped process left running as
// failed; the reconciler builds again where the image is still needed.
func (db *DB) InterruptBuilds(ctx context.Context) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE builds SET result = 'failed', log = log || ?, ended_at = ? WHERE result = 'running'`,
		"\n(interrupted: appfactory stopped during the build)\n", formatTime(db.Now()))
	if err != nil {
		return 0, fmt.Errorf("interrupt builds: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ImageTags lists every image tag a build produced or a tenant runs, for
// removing a data directory's images from the engine.
func (db *DB) ImageTags(ctx context.Context) ([]string, error) {
	var tags []string
	err := db.r.SelectContext(ctx, &tags, `SELECT DISTINCT tag FROM builds UNION SELECT image FROM tenants WHERE image != ''`)
	if err != nil {
		return nil, fmt.Errorf("image tags: %w", err)
	}
	return tags, nil
}
