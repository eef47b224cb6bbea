package handlers

import (
	"context"

	"appfactory/apperr"
	"appfactory/store"
)

// Backups is what the backup handlers need of the orchestrator's backups.
type Backups interface {
	// Take backs a deployment up now (kind manual, scheduled or pre-upgrade).
	Take(ctx context.Context, t *store.Tenant, kind, by string) (*store.Backup, error)
	// Restore asks for a backup's data on a deployment; RestoreNew deploys
	// a new one of the backup's app with its data.
	Restore(ctx context.Context, t *store.Tenant, bk *store.Backup, by *store.User) error
	RestoreNew(ctx context.Context, bk *store.Backup, name string, by *store.User) (*store.Tenant, error)
	// Rollback goes back to the version before the last upgrade and its data.
	Rollback(ctx context.Context, t *store.Tenant, by *store.User) error
	Delete(ctx context.Context, bk *store.Backup) error
	// Path is where a backup's archive is; Verify checks it against its checksum.
	Path(bk *store.Backup) (string, error)
	Verify(bk *store.Backup) error
}

// canDownloadBackup: a deployment's data leaves only to its owner and staff.
func canDownloadBackup(u *store.User, t *store.Tenant) bool {
	return u != nil && (t.OwnerID == u.ID || u.IsStaff())
}

// backupFor loads a backup with its deployment, which the user may see
// (act: may change; download: may take its data away). A backup of a
// deployment the user may not see is not found.
func (h *Handlers) backupFor(ctx context.Context, u *store.User, id string, act, download bool) (*store.Backup, *store.Tenant, error) {
	bk, err := h.DB.BackupByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	t, err := h.tenantFor(ctx, u, bk.TenantID, act)
	if apperr.Code(err) == apperr.NotFound {
		return nil, nil, apperr.New(apperr.NotFound, "Backup not found.")
	}
	if err != nil {
		return nil, nil, err
	}
	if download && !canDownloadBackup(u, t) {
		return nil, nil, apperr.New(apperr.Forbidden, "Only the owner of this deployment or staff can download its backups.")
	}
	return bk, t, nil
}
