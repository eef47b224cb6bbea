package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

func (h *Handlers) adminUsers(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.AdminUsersView{Query: c.QueryParam("q"), Role: c.QueryParam("role"), SelfID: CurrentUser(c).ID}
	if !store.ValidRole(v.Role) {
		v.Role = ""
	}
	users, err := h.DB.ListUsers(ctx, store.UserFilter{Query: v.Query, Role: v.Role, Limit: 500})
	if err != nil {
		return err
	}
	for _, u := range users {
		n, err := h.DB.CountUserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		invited, err := h.DB.InvitePending(ctx, u.ID)
		if err != nil {
			return err
		}
		v.Users = append(v.Users, views.AdminUserRow{ID: u.ID, Name: u.Name, Email: u.Email, Company: u.Company,
			Role: u.Role, Disabled: u.Disabled, Created: u.CreatedAt.Time, Sessions: n, Invited: invited && u.Role == store.RoleProspect})
	}
	p := h.Server.PageFor(c, "Users")
	p.Nav = "admin"
	return web.Render(c, http.StatusOK, views.AdminUsersPage(p, v))
}

// targetUser is the user an admin action is about; an admin never acts on
// their own account here, so that no admin can lock the portal out.
func (h *Handlers) targetUser(c echo.Context) (*store.User, error) {
	u, err := h.DB.UserByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if u.ID == CurrentUser(c).ID {
		return nil, apperr.New(apperr.Unprocessable, "You cannot change your own role or access here.")
	}
	return u, nil
}

func (h *Handlers) adminDone(c echo.Context, msg string) error {
	if err := h.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, "/admin/users")
}

func (h *Handlers) adminSetRole(c echo.Context) error {
	u, err := h.targetUser(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if err := h.DB.SetUserRole(c.Request().Context(), u.ID, role); err != nil {
		return err
	}
	h.Logger.Info("role changed", "user", u.ID, "role", role, "by", CurrentUser(c).ID)
	return h.adminDone(c, u.Email+" is now "+role+".")
}

func (h *Handlers) adminEndSessions(c echo.Context) error {
	u, err := h.targetUser(c)
	if err != nil {
		return err
	}
	if err := h.DB.DeleteUserSessions(c.Request().Context(), u.ID, ""); err != nil {
		return err
	}
	h.Logger.Info("sessions ended by admin", "user", u.ID, "by", CurrentUser(c).ID)
	return h.adminDone(c, "Every session of "+u.Email+" is ended.")
}

func (h *Handlers) adminDisable(c echo.Context) error { return h.adminSetDisabled(c, true) }
func (h *Handlers) adminEnable(c echo.Context) error  { return h.adminSetDisabled(c, false) }

func (h *Handlers) adminSetDisabled(c echo.Context, disabled bool) error {
	u, err := h.targetUser(c)
	if err != nil {
		return err
	}
	if err := h.DB.SetUserDisabled(c.Request().Context(), u.ID, disabled); err != nil {
		return err
	}
	h.Logger.Info("access changed", "user", u.ID, "disabled", disabled, "by", CurrentUser(c).ID)
	if disabled {
		return h.adminDone(c, u.Email+" is disabled and signed out.")
	}
	return h.adminDone(c, u.Email+" is enabled.")
}
