package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// BackupJSON is the API's view of a backup.
type BackupJSON struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Platform  string    `json:"platform"`
	Version   string    `json:"version"`
	Kind      string    `json:"kind"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}

func backupJSON(b *store.Backup) BackupJSON {
	return BackupJSON{ID: b.ID, TenantID: b.TenantID, Platform: b.Platform, Version: b.Version, Kind: b.Kind,
		Size: b.Size, SHA256: b.SHA256, CreatedAt: b.CreatedAt.Time}
}

// registerBackupsAPI installs the backups' JSON API.
func (h *Handlers) registerBackupsAPI(e *echo.Echo) {
	g := e.Group("/api/v1", h.APIAuth)
	g.POST("/tenants/:id/backups", h.apiCreateBackup)
	g.GET("/tenants/:id/backups", h.apiListBackups)
	g.POST("/tenants/:id/restore", h.apiRestoreTenant)
	g.POST("/tenants/:id/rollback", h.apiRollbackTenant)
	g.GET("/backups/:id", h.apiGetBackup)
	g.GET("/backups/:id/download", h.apiDownloadBackup)
	g.DELETE("/backups/:id", h.apiDeleteBackup)
	g.POST("/backups/:id/restore-new", h.apiRestoreNew)
}

// apiCreateBackup backs a deployment up now: 201 with the backup, once
// taken (the deployment is paused or kept stopped for the copy).
func (h *Handlers) apiCreateBackup(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	if c.Request().ContentLength != 0 {
		var body struct{}
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
	}
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return err
	}
	if err := h.allow(u, t, domain.ActionBackup); err != nil {
		return err
	}
	bk, err := h.Backups.Take(ctx, t, store.BackupManual, u.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, backupJSON(bk))
}

// apiListBackups lists a deployment's backups, newest first.
func (h *Handlers) apiListBackups(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.tenantFor(ctx, CurrentUser(c), c.Param("id"), false)
	if err != nil {
		return err
	}
	bks, err := h.DB.ListBackups(ctx, t.ID)
	if err != nil {
		return err
	}
	out := make([]BackupJSON, len(bks))
	for i := range bks {
		out[i] = backupJSON(&bks[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"backups": out})
}

func (h *Handlers) apiGetBackup(c echo.Context) error {
	bk, _, err := h.backupFor(c.Request().Context(), CurrentUser(c), c.Param("id"), false, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, backupJSON(bk))
}

// apiDownloadBackup sends a backup's archive (a gzipped tar of the
// volumes) to the deployment's owner or staff.
func (h *Handlers) apiDownloadBackup(c echo.Context) error {
	return h.downloadBackup(c)
}

// downloadBackup answers the archive of the backup of the request's id.
func (h *Handlers) downloadBackup(c echo.Context) error {
	bk, t, err := h.backupFor(c.Request().Context(), CurrentUser(c), c.Param("id"), false, true)
	if err != nil {
		return err
	}
	path, err := h.Backups.Path(bk)
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/gzip")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.tar.gz"`, t.Slug, bk.ID))
	res.Header().Set("Digest", "sha-256="+bk.SHA256)
	return c.File(path)
}

func (h *Handlers) apiDeleteBackup(c echo.Context) error {
	ctx := c.Request().Context()
	bk, _, err := h.backupFor(ctx, CurrentUser(c), c.Param("id"), true, false)
	if err != nil {
		return err
	}
	if err := h.Backups.Delete(ctx, bk); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiRestoreTenant restores a backup into a deployment: 202 with the
// deployment, whose data is replaced by its next pass.
func (h *Handlers) apiRestoreTenant(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	var req struct {
		BackupID string `json:"backup_id"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.BackupID == "" {
		return apperr.FieldError(apperr.Invalid, "backup_id", "Name the backup to restore (backup_id).")
	}
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return err
	}
	if err := h.allow(u, t, domain.ActionRestore); err != nil {
		return err
	}
	bk, _, err := h.backupFor(ctx, u, req.BackupID, true, false)
	if err != nil {
		return err
	}
	if err := h.Backups.Restore(ctx, t, bk, u); err != nil {
		return err
	}
	return h.tenantAnswer(c, http.StatusAccepted, t.ID)
}

// apiRestoreNew deploys a new deployment of the backup's app with its data.
func (h *Handlers) apiRestoreNew(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	var req struct {
		Name string `json:"name"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	bk, _, err := h.backupFor(ctx, u, c.Param("id"), true, false)
	if err != nil {
		return err
	}
	t, err := h.Backups.RestoreNew(ctx, bk, req.Name, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"tenant": h.tenantJSON(CurrentUser(c), t)})
}

// apiRollbackTenant goes back to the version before the last upgrade and
// the data of the backup taken before it: 202 with the deployment.
func (h *Handlers) apiRollbackTenant(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	t, err := h.tenantFor(ctx, u, c.Param("id"), true)
	if err != nil {
		return err
	}
	if err := h.allow(u, t, domain.ActionRollback); err != nil {
		return err
	}
	if err := h.Backups.Rollback(ctx, t, u); err != nil {
		return err
	}
	return h.tenantAnswer(c, http.StatusAccepted, t.ID)
}

// tenantAnswer answers {"tenant": ...} as the deployment now stands.
func (h *Handlers) tenantAnswer(c echo.Context, status int, id string) error {
	t, err := h.DB.TenantByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(status, map[string]any{"tenant": h.tenantJSON(CurrentUser(c), t)})
}
