package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/domain"
)

// States of an upgrade.
const (
	UpgradePending    = "pending"
	UpgradeVerified   = "verified"
	UpgradeRolledBack = "rolled-back"
)

// Upgrade is a tenant's last upgrade: from which version, with which
// backup of the data before it, and whether the new version came up.
type Upgrade struct {
	TenantID    string `db:"tenant_id"`
	FromVersion string `db:"from_version"`
	ToVersion   string `db:"to_version"`
	BackupID    string `db:"backup_id"`
	State       string `db:"state"`
	// Deadline is when a pending upgrade whose version is not ready yet is rolled back.
	Deadline  Time `db:"deadline"`
	UpdatedAt Time `db:"updated_at"`
}

// StartUpgrade moves a tenant to another version (a new generation on a
// rebuilt image) and records the upgrade as pending, in one transaction.
func (db *DB) StartUpgrade(ctx context.Context, u *Upgrade, reason string) (int64, error) {
	var gen int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if gen, err = bumpGeneration(ctx, tx, db.Now(), u.TenantID, u.ToVersion, reason); err != nil {
			return err
		}
		u.State, u.UpdatedAt = UpgradePending, TimeOf(db.Now())
		_, err = tx.NamedExecContext(ctx, `INSERT INTO upgrades (tenant_id, from_version, to_version, backup_id, state, deadline, updated_at)
			VALUES (:tenant_id, :from_version, :to_version, :backup_id, :state, :deadline, :updated_at)
			ON CONFLICT (tenant_id) DO UPDATE SET from_version = excluded.from_version, to_version = excluded.to_version,
				backup_id = excluded.backup_id, state = excluded.state, deadline = excluded.deadline, updated_at = excluded.updated_at`, u)
		if err != nil {
			return fmt.Errorf("record upgrade: %w", err)
		}
		return nil
	})
	return gen, err
}

// UpgradeOf returns a tenant's last upgrade, if it had one.
func (db *DB) UpgradeOf(ctx context.Context, tenantID string) (*Upgrade, error) {
	var u Upgrade
	if err := db.r.GetContext(ctx, &u, `SELECT tenant_id, from_version, to_version, backup_id, state, deadline, updated_at
		FROM upgrades WHERE tenant_id = ?`, tenantID); err != nil {
		return nil, NotFound(err, "Upgrade")
	}
	return &u, nil
}

// SetUpgradeState records that a tenant's last upgrade was verified or rolled back.
func (db *DB) SetUpgradeState(ctx context.Context, tenantID, state string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE upgrades SET state = ?, updated_at = ? WHERE tenant_id = ?`, state, formatTime(db.Now()), tenantID)
	if err != nil {
		return fmt.Errorf("set upgrade state: %w", err)
	}
	return nil
}

// RollBackUpgrade puts a tenant back on its previous version (a new
// generation, its image rebuilt), asks for the pre-upgrade backup's data
// to be restored, and marks the upgrade rolled back, in one transaction.
func (db *DB) RollBackUpgrade(ctx context.Context, u *Upgrade, reason string) (int64, error) {
	var gen int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if gen, err = bumpGeneration(ctx, tx, db.Now(), u.TenantID, u.FromVersion, reason); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE upgrades SET state = ?, updated_at = ? WHERE tenant_id = ?`, UpgradeRolledBack, formatTime(db.Now()), u.TenantID); err != nil {
			return fmt.Errorf("roll back upgrade: %w", err)
		}
		if u.BackupID == "" {
			return nil
		}
		return requestRestore(ctx, tx, db.Now(), u.TenantID, u.BackupID, "The data of the pre-upgrade backup "+u.BackupID+" is put back")
	})
	return gen, err
}

// PendingRestore is a restore of a backup into a tenant that its next
// pass does.
type PendingRestore struct {
	TenantID  string `db:"tenant_id"`
	BackupID  string `db:"backup_id"`
	Reason    string `db:"reason"`
	CreatedAt Time   `db:"created_at"`
}

// RequestRestore asks for a backup's data to be put on a tenant's
// volumes by its next pass (replacing a restore asked for before), with
// the reason as an event.
func (db *DB) RequestRestore(ctx context.Context, tenantID, backupID, reason string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		return requestRestore(ctx, tx, db.Now(), tenantID, backupID, reason)
	})
}

func requestRestore(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID, backupID, reason string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pending_restores (tenant_id, backup_id, reason, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET backup_id = excluded.backup_id, reason = excluded.reason, created_at = excluded.created_at`,
		tenantID, backupID, reason, formatTime(now))
	if err != nil {
		return fmt.Errorf("request restore: %w", err)
	}
	return addEvent(ctx, tx, tenantID, now, domain.EventBackup, reason)
}

// PendingRestoreOf returns the restore a tenant waits for, or nil.
func (db *DB) PendingRestoreOf(ctx context.Context, tenantID string) (*PendingRestore, error) {
	var out []PendingRestore
	if err := db.r.SelectContext(ctx, &out, `SELECT tenant_id, backup_id, reason, created_at FROM pending_restores WHERE tenant_id = ?`, tenantID); err != nil {
		return nil, fmt.Errorf("pending restore: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// FinishRestore records a pending restore done, with an event.
func (db *DB) FinishRestore(ctx context.Context, tenantID, backupID, event string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_restores WHERE tenant_id = ? AND backup_id = ?`, tenantID, backupID); err != nil {
			return fmt.Errorf("finish restore: %w", err)
		}
		return addEvent(ctx, tx, tenantID, db.Now(), domain.EventBackup, event)
	})
}
