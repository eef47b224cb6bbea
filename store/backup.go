package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/domain"
)

// Kinds of backup: what took it.
const (
	BackupManual     = "manual"
	BackupScheduled  = "scheduled"
	BackupPreUpgrade = "pre-upgrade"
)

// Backup is one backup of a tenant's volumes; its archive is found by
// SHA256 under the data directory.
type Backup struct {
	ID        string `db:"id" json:"id"`
	TenantID  string `db:"tenant_id" json:"tenant_id"`
	Platform  string `db:"platform" json:"platform"`
	Version   string `db:"version" json:"version"`
	Kind      string `db:"kind" json:"kind"`
	Size      int64  `db:"size" json:"size"`
	SHA256    string `db:"sha256" json:"sha256"`
	CreatedBy string `db:"created_by" json:"-"`
	CreatedAt Time   `db:"created_at" json:"created_at"`
}

const backupColumns = `id, tenant_id, platform, version, kind, size, sha256, created_by, created_at`

// CreateBackup records a backup taken (ID and time filled in when empty)
// with an event of its tenant.
func (db *DB) CreateBackup(ctx context.Context, b *Backup, event string) error {
	if b.ID == "" {
		b.ID = NewID()
	}
	now := db.Now()
	if b.CreatedAt.IsZero() {
		b.CreatedAt = TimeOf(now)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO backups (`+backupColumns+`) VALUES
			(:id, :tenant_id, :platform, :version, :kind, :size, :sha256, :created_by, :created_at)`, b); err != nil {
			return fmt.Errorf("create backup: %w", err)
		}
		return addEvent(ctx, tx, b.TenantID, now, domain.EventBackup, event)
	})
}

// BackupByID returns a backup.
func (db *DB) BackupByID(ctx context.Context, id string) (*Backup, error) {
	var b Backup
	if err := db.r.GetContext(ctx, &b, `SELECT `+backupColumns+` FROM backups WHERE id = ?`, id); err != nil {
		return nil, NotFound(err, "Backup")
	}
	return &b, nil
}

// ListBackups returns a tenant's backups, newest first.
func (db *DB) ListBackups(ctx context.Context, tenantID string) ([]Backup, error) {
	out := []Backup{}
	if err := db.r.SelectContext(ctx, &out, `SELECT `+backupColumns+` FROM backups WHERE tenant_id = ?
		ORDER BY created_at DESC, rowid DESC`, tenantID); err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	return out, nil
}

// DeleteBackup removes a backup's row and tells whether another row still
// names its archive (which must then stay).
func (db *DB) DeleteBackup(ctx context.Context, id string) (b *Backup, shared bool, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		var row Backup
		if err := tx.GetContext(ctx, &row, `SELECT `+backupColumns+` FROM backups WHERE id = ?`, id); err != nil {
			return NotFound(err, "Backup")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM backups WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete backup: %w", err)
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM backups WHERE sha256 = ?`, row.SHA256); err != nil {
			return err
		}
		b, shared = &row, n > 0
		return nil
	})
	return b, shared, err
}

// BackupRefs counts the rows naming an archive.
func (db *DB) BackupRefs(ctx context.Context, sha string) (int, error) {
	var n int
	err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM backups WHERE sha256 = ?`, sha)
	return n, err
}

// DefaultBackupKeep is how many scheduled backups are kept where an
// environment's settings say nothing (the column's default).
const DefaultBackupKeep = 7

// BackupSchedule is an environment's scheduled backups: one every Every
// (zero: none), the newest Keep scheduled ones kept.
type BackupSchedule struct {
	Environment string `db:"environment"`
	EveryHours  int    `db:"backup_every_hours"`
	Keep        int    `db:"backup_keep"`
}

// Every is the schedule's period.
func (s BackupSchedule) Every() time.Duration { return time.Duration(s.EveryHours) * time.Hour }

// BackupSchedules returns the schedule of every environment that has settings.
func (db *DB) BackupSchedules(ctx context.Context) (map[string]BackupSchedule, error) {
	var rows []BackupSchedule
	if err := db.r.SelectContext(ctx, &rows, `SELECT environment, backup_every_hours, backup_keep FROM env_settings`); err != nil {
		return nil, fmt.Errorf("list backup schedules: %w", err)
	}
	out := make(map[string]BackupSchedule, len(rows))
	for _, r := range rows {
		out[r.Environment] = r
	}
	return out, nil
}

// SetBackupSchedule sets an environment's scheduled backups.
func (db *DB) SetBackupSchedule(ctx context.Context, s BackupSchedule) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO env_settings (environment, pause_enabled, updated_at, backup_every_hours, backup_keep)
		VALUES (?, 1, ?, ?, ?)
		ON CONFLICT (environment) DO UPDATE SET backup_every_hours = excluded.backup_every_hours,
			backup_keep = excluded.backup_keep, updated_at = excluded.updated_at`,
		s.Environment, formatTime(db.Now()), s.EveryHours, s.Keep)
	if err != nil {
		return fmt.Errorf("set backup schedule of %s: %w", s.Environment, err)
	}
	return nil
}

// ScheduledDue lists the deployed tenants of an environment whose newest
// scheduled backup is older than since (or that have none); a tenant on
// its way somewhere (building, failed, deleting) waits for the next round.
func (db *DB) ScheduledDue(ctx context.Context, environment string, since time.Time) ([]Tenant, error) {
	var out []Tenant
	err := db.r.SelectContext(ctx, &out, `SELECT `+tenantColumns+` FROM tenants t WHERE environment = ?
		AND desired_state != 'deleted' AND image != '' AND state IN ('running', 'paused', 'passivated', 'expired')
		AND NOT EXISTS (SELECT 1 FROM backups b WHERE b.tenant_id = t.id AND b.kind = 'scheduled' AND b.created_at > ?)`,
		environment, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("list tenants due a backup: %w", err)
	}
	return out, nil
}

// OldScheduled lists a tenant's scheduled backups beyond the newest keep.
func (db *DB) OldScheduled(ctx context.Context, tenantID string, keep int) ([]Backup, error) {
	var out []Backup
	err := db.r.SelectContext(ctx, &out, `SELECT `+backupColumns+` FROM backups WHERE tenant_id = ? AND kind = 'scheduled'
		ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?`, tenantID, max(keep, 0))
	if err != nil {
		return nil, fmt.Errorf("list old backups: %w", err)
	}
	return out, nil
}
