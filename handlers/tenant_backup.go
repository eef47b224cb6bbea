package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// registerBackups installs the Backups panel's routes on the deployment
// pages' group, and the backups' own pages.
func (h *Handlers) registerBackups(g *echo.Group) {
	g.GET("/:id/backups", h.backupsPanel)
	g.POST("/:id/backups", h.backupNow)
	g.POST("/:id/restore", h.restoreForm)
	g.POST("/:id/rollback", h.rollbackForm)
	b := h.Server.Echo().Group("/backups", h.RequireUser)
	b.GET("/:id/download", h.downloadBackup)
	b.POST("/:id/delete", h.deleteBackupForm)
	b.POST("/:id/restore-new", h.restoreNewForm)
}

// backupsView makes a deployment's Backups panel.
func (h *Handlers) backupsView(ctx context.Context, u *store.User, t *store.Tenant, csrf string) (views.BackupsView, error) {
	v := views.BackupsView{TenantID: t.ID, CSRF: csrf, CanAct: canActOnTenant(u, t) && t.DesiredState != domain.DesiredDeleted,
		CanDownload: canDownloadBackup(u, t)}
	bks, err := h.DB.ListBackups(ctx, t.ID)
	if err != nil {
		return v, err
	}
	for _, b := range bks {
		v.Rows = append(v.Rows, views.BackupRow{ID: b.ID, Kind: b.Kind, Version: b.Version, Size: bytesText(b.Size),
			Created: timeText(b.CreatedAt.Time), SHA256: b.SHA256})
	}
	pr, err := h.DB.PendingRestoreOf(ctx, t.ID)
	if err != nil {
		return v, err
	}
	if pr != nil {
		v.Pending = "Restoring backup " + pr.BackupID + ": the deployment is stopped, its data replaced, then started again."
	}
	if up, err := h.DB.UpgradeOf(ctx, t.ID); err == nil && up.State != store.UpgradeRolledBack && up.ToVersion == t.Version {
		v.Rollback = &views.RollbackView{From: up.FromVersion, To: up.ToVersion}
	}
	return v, nil
}

// backupsPanel is the panel alone, which polls itself while a restore waits.
func (h *Handlers) backupsPanel(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), false)
	if err != nil {
		return err
	}
	v, err := h.backupsView(ctx, u, t, CSRFToken(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.TenantBackupsPanel(v))
}

// backupNow takes a backup from the panel's button: htmx gets the panel
// again, with the outcome; a plain form goes back to the page.
func (h *Handlers) backupNow(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return err
	}
	bk, takeErr := h.Backups.Take(ctx, t, store.BackupManual, u.Name)
	if !web.GetHTMX(c).Partial() {
		if takeErr != nil {
			return takeErr
		}
		return web.Redirect(c, "/tenants/"+t.ID)
	}
	v, err := h.backupsView(ctx, u, t, CSRFToken(c))
	if err != nil {
		return err
	}
	switch {
	case takeErr != nil && apperr.Code(takeErr) == apperr.Internal:
		h.Logger.Error("backup", "tenant", t.Slug, "err", takeErr)
		v.Message, v.Failed = "The backup failed: an internal error occurred.", true
	case takeErr != nil:
		v.Message, v.Failed = apperr.Message(takeErr), true
	default:
		v.Message = "Backup " + bk.ID + " taken (" + bytesText(bk.Size) + ")."
	}
	return web.Render(c, http.StatusOK, views.TenantBackupsPanel(v))
}

// restoreForm restores the form's backup into the deployment.
func (h *Handlers) restoreForm(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return err
	}
	bk, _, err := h.backupFor(ctx, u, c.FormValue("backup_id"), true, false)
	if err != nil {
		return err
	}
	if err := h.Backups.Restore(ctx, t, bk, u); err != nil {
		return err
	}
	return web.Redirect(c, "/tenants/"+t.ID)
}

// rollbackForm is the one-click rollback of the last upgrade.
func (h *Handlers) rollbackForm(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return err
	}
	if err := h.Backups.Rollback(ctx, t, u); err != nil {
		return err
	}
	return web.Redirect(c, "/tenants/"+t.ID)
}

func (h *Handlers) deleteBackupForm(c echo.Context) error {
	ctx := c.Request().Context()
	bk, t, err := h.backupFor(ctx, CurrentUser(c), c.Param("id"), true, false)
	if err != nil {
		return err
	}
	if err := h.Backups.Delete(ctx, bk); err != nil {
		return err
	}
	return web.Redirect(c, "/tenants/"+t.ID)
}

// restoreNewForm deploys a new deployment with the backup's data and
// shows its page.
func (h *Handlers) restoreNewForm(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	bk, _, err := h.backupFor(ctx, u, c.Param("id"), true, false)
	if err != nil {
		return err
	}
	nt, err := h.Backups.RestoreNew(ctx, bk, c.FormValue("name"), u)
	if err != nil {
		return err
	}
	return web.Redirect(c, "/tenants/"+nt.ID)
}
