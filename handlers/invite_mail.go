package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/mail"
	"appfactory/store"
)

// pendingInvitee is a prospect still to set a password through an
// invitation; an account in use is never given one (it would hand it over).
func (h *Handlers) pendingInvitee(ctx context.Context, id string) (*store.User, error) {
	u, err := h.DB.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	pending, err := h.DB.InvitePending(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !pending || u.Role != store.RoleProspect {
		return nil, apperr.New(apperr.Conflict, "%s already set a password: they can sign in.", u.Email)
	}
	return u, nil
}

// invite makes a new invitation of u by by and mails it (unless u turned
// mail off); it returns the link's token and whether it was mailed.
func (h *Handlers) invite(ctx context.Context, u, by *store.User) (string, bool, error) {
	if !mail.Wanted(mail.KindInvite, u) {
		tok, err := h.DB.CreateInvite(ctx, u.ID, by.ID, inviteTTL)
		return tok, false, err
	}
	tok, err := h.DB.CreateInviteMail(ctx, u.ID, by.ID, inviteTTL, func(token string) (*store.OutboxMail, error) {
		return h.Mail.Composer.Invite(u, token)
	})
	if err != nil {
		return "", false, err
	}
	h.mailSent()
	return tok, true, nil
}

// adminResendInvite mails a prospect a new invitation (the earlier link stops working).
func (h *Handlers) adminResendInvite(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.pendingInvitee(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	_, mailed, err := h.invite(ctx, u, CurrentUser(c))
	if err != nil {
		return err
	}
	h.Logger.Info("invitation resent", "user", u.ID, "mailed", mailed, "by", CurrentUser(c).ID)
	if !mailed {
		return h.adminDone(c, "A new invitation for "+u.Email+" is made, but not mailed: they turned mail off. The sales page shows its link.")
	}
	return h.adminDone(c, "A new invitation is on its way to "+u.Email+".")
}
