package handlers

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/web"
)

// Bounds of a backup schedule: at most one a year apart, at most a year's
// worth of daily backups kept.
const (
	maxBackupEveryHours = 8760
	maxBackupKeep       = 365
)

// validSchedule checks an environment's backup schedule.
func validSchedule(s store.BackupSchedule) error {
	if s.EveryHours < 0 || s.EveryHours > maxBackupEveryHours {
		return apperr.FieldError(apperr.Invalid, "backup_every_hours", "Back up every 0 (never) to %d hours.", maxBackupEveryHours)
	}
	if s.Keep < 1 || s.Keep > maxBackupKeep {
		return apperr.FieldError(apperr.Invalid, "backup_keep", "Keep 1 to %d scheduled backups.", maxBackupKeep)
	}
	return nil
}

// registerBackupSchedules installs the admins' schedule form.
func (h *Handlers) registerBackupSchedules(e *echo.Echo) {
	e.POST("/admin/environments/:id/backups", h.backupScheduleForm, h.RequireRole(store.RoleAdmin))
}

// backupScheduleForm sets an environment's scheduled backups.
func (h *Handlers) backupScheduleForm(c echo.Context) error {
	id := c.Param("id")
	e, ok := h.Catalog.Environment(id)
	if !ok {
		return apperr.New(apperr.NotFound, "Environment not found.")
	}
	every, err := strconv.Atoi(c.FormValue("backup_every_hours"))
	if err != nil {
		return apperr.FieldError(apperr.Invalid, "backup_every_hours", "Give the hours between backups as a whole number.")
	}
	keep, err := strconv.Atoi(c.FormValue("backup_keep"))
	if err != nil {
		return apperr.FieldError(apperr.Invalid, "backup_keep", "Give how many backups to keep as a whole number.")
	}
	s := store.BackupSchedule{Environment: id, EveryHours: every, Keep: keep}
	if err := validSchedule(s); err != nil {
		return err
	}
	if err := h.DB.SetBackupSchedule(c.Request().Context(), s); err != nil {
		return err
	}
	msg := "Scheduled backups of " + e.Name + " turned off."
	if every > 0 {
		msg = "Tenants of " + e.Name + " are backed up every " + strconv.Itoa(every) + " h; the newest " + strconv.Itoa(keep) + " are kept."
	}
	if err := h.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, "/admin/environments")
}
