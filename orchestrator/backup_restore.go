package orchestrator

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// Restore asks for a backup's data to be put back on a tenant's volumes:
// the archive is checked first (its checksum, its platform), then the
// reconciler's next pass stops the replicas, replaces the data and starts
// the tenant (a sleeping one too, as a restart does).
func (b *Backups) Restore(ctx context.Context, t *store.Tenant, bk *store.Backup, by *store.User) error {
	if t.DesiredState == domain.DesiredDeleted {
		return apperr.New(apperr.Conflict, "This deployment is deleted.")
	}
	if bk.Platform != t.Platform {
		return apperr.FieldError(apperr.Unprocessable, "backup_id", "Backup %s is of the %s platform; this deployment runs %s.", bk.ID, bk.Platform, t.Platform)
	}
	if t.Image == "" {
		return apperr.New(apperr.Conflict, "This deployment is not deployed yet: restore into it once it is.")
	}
	if err := b.Verify(bk); err != nil {
		return err
	}
	reason := fmt.Sprintf("Restore of backup %s (%s %s, taken %s) requested by %s", bk.ID, bk.Platform, bk.Version, bk.CreatedAt.Format("2006-01-02 15:04 UTC"), by.Name)
	if err := b.DB.RequestRestore(ctx, t.ID, bk.ID, reason); err != nil {
		return err
	}
	if err := b.runAfter(ctx, t); err != nil {
		return err
	}
	b.Reconciler.Wake(t.ID)
	return nil
}

// RestoreNew deploys a new tenant of the backup's app, owned by the owner
// of the backup's tenant, on the backup's version and the tenant's
// assembly, that starts with the backup's data.
func (b *Backups) RestoreNew(ctx context.Context, bk *store.Backup, name string, by *store.User) (*store.Tenant, error) {
	if err := b.Verify(bk); err != nil {
		return nil, err
	}
	src, err := b.DB.TenantByID(ctx, bk.TenantID)
	if err != nil {
		return nil, err
	}
	app, err := b.DB.AppByID(ctx, src.AppID)
	if apperr.Code(err) == apperr.NotFound {
		return nil, apperr.New(apperr.Conflict, "The app of this backup's deployment is deleted.")
	}
	if err != nil {
		return nil, err
	}
	owner, err := b.DB.UserByID(ctx, src.OwnerID)
	if err != nil {
		return nil, err
	}
	if p, ok := b.Service.Catalog.Platform(bk.Platform); !ok || app.Platform != bk.Platform {
		return nil, apperr.New(apperr.Unprocessable, "The platform %q of this backup is not in the catalog.", bk.Platform)
	} else if _, ok := p.Version(bk.Version); !ok {
		return nil, apperr.New(apperr.Unprocessable, "Version %s of %s, which this backup was taken on, is no longer in the catalog.", bk.Version, p.Name)
	}
	d, err := b.Service.PlanDeploy(ctx, app, owner)
	if err != nil {
		return nil, err
	}
	t := d.Tenant
	t.CreatedBy, t.Version, t.Assembly, t.Replicas = by.ID, bk.Version, src.Assembly, src.Replicas
	name = strings.TrimSpace(name)
	if name != "" {
		if len(name) > 100 {
			return nil, apperr.FieldError(apperr.Invalid, "name", "The name is at most 100 characters.")
		}
		t.Title = name
		base := stack.BaseSlug(name)
		d.Slug = func(i int) string { return stack.SlugCandidate(base, i) }
	}
	d.RestoreFrom = bk.ID
	if err := b.DB.CreateDeployment(ctx, d); err != nil {
		return nil, err
	}
	b.Service.Deployed(t, by)
	return b.DB.TenantByID(ctx, t.ID)
}

// Delete removes a backup, and its archive once no other backup names it.
// The backup a rollback of the tenant's last upgrade restores, and one a
// restore waits for, stay.
func (b *Backups) Delete(ctx context.Context, bk *store.Backup) error {
	if u, err := b.DB.UpgradeOf(ctx, bk.TenantID); err == nil && u.BackupID == bk.ID && u.State != store.UpgradeRolledBack {
		return apperr.New(apperr.Conflict, "Backup %s is what a rollback of the last upgrade restores: roll back, or upgrade again, before deleting it.", bk.ID)
	}
	if pr, err := b.DB.PendingRestoreOf(ctx, bk.TenantID); err != nil {
		return err
	} else if pr != nil && pr.BackupID == bk.ID {
		return apperr.New(apperr.Conflict, "Backup %s is being restored.", bk.ID)
	}
	row, shared, err := b.DB.DeleteBackup(ctx, bk.ID)
	if err != nil {
		return err
	}
	b.event(ctx, row.TenantID, "Backup %s deleted", row.ID)
	if shared {
		return nil
	}
	path, err := b.Path(row)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		b.log().Warn("remove backup archive", slog.String("backup", row.ID), slog.Any("err", err))
	}
	return nil
}

// Rollback puts a tenant back on the version before its last upgrade and
// the data of the backup taken just before it.
func (b *Backups) Rollback(ctx context.Context, t *store.Tenant, by *store.User) error {
	if t.DesiredState == domain.DesiredDeleted {
		return apperr.New(apperr.Conflict, "This deployment is deleted.")
	}
	if u, err := b.DB.UpgradeOf(ctx, t.ID); err == nil && u.BackupID != "" {
		bk, err := b.DB.BackupByID(ctx, u.BackupID)
		if err != nil {
			return err
		}
		if err := b.Verify(bk); err != nil {
			return err
		}
	}
	if err := b.Reconciler.Rollback(ctx, t.ID, by.Name); err != nil {
		return err
	}
	if err := b.runAfter(ctx, t); err != nil {
		return err
	}
	b.Reconciler.Wake(t.ID)
	return nil
}

// runAfter has a sleeping tenant run once its data is restored, as a
// restart does: the restore is there to be used.
func (b *Backups) runAfter(ctx context.Context, t *store.Tenant) error {
	if t.DesiredState != domain.DesiredRunning {
		if err := b.DB.SetDesiredState(ctx, t.ID, domain.DesiredRunning); err != nil {
			return err
		}
	}
	if t.Paused {
		if err := b.DB.SetTenantPaused(ctx, t.ID, false); err != nil {
			return err
		}
	}
	return nil
}
