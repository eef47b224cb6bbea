package handlers

import (
	"context"
	"log/slog"

	"appfactory/domain"
	"appfactory/store"
)

// Warmer starts a sleeping tenant before its first request, for a reason
// shown in its events and in what woke it: the router.
type Warmer interface {
	Warm(tenantID, reason string) bool
}

// warmOnSignIn bounds the tenants a sign-in warms up: the owner's most
// recent ones.
const warmOnSignIn = 3

// warm starts a tenant when intent is clear; nothing when no warmer is set
// or the tenant does not sleep.
func (h *Handlers) warm(t *store.Tenant, reason string) {
	if h.Warmer == nil || t == nil || t.DesiredState == domain.DesiredDeleted {
		return
	}
	if h.Warmer.Warm(t.ID, reason) {
		h.Logger.Info("warm-up", slog.String("tenant", t.Slug), slog.String("reason", reason))
	}
}

// warmOwned warms up the most recent tenants a user owns: the user has
// just signed in, or opened an invitation to a demo, and is about to use
// them. It never fails the request that triggered it.
func (h *Handlers) warmOwned(ctx context.Context, u *store.User, reason string) {
	if h.Warmer == nil || u == nil {
		return
	}
	ts, err := h.DB.ListTenants(ctx, store.TenantFilter{OwnerID: u.ID, Limit: 20})
	if err != nil {
		h.Logger.Warn("warm-up: list tenants", slog.String("user", u.ID), slog.Any("err", err))
		return
	}
	n := 0
	for i := range ts {
		t := &ts[i]
		if t.DesiredState == domain.DesiredDeleted || t.State == domain.StateExpired || t.State == domain.StateFailed {
			continue
		}
		h.warm(t, reason)
		if n++; n == warmOnSignIn {
			return
		}
	}
}
