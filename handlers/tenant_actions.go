package handlers

import (
	"context"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// tenantFacts is what decides the actions t allows u.
func (h *Handlers) tenantFacts(u *store.User, t *store.Tenant) domain.TenantFacts {
	return domain.TenantFacts{
		State: t.State, Desired: t.DesiredState, Paused: t.Paused, Trial: !t.ExpiresAt.Time.IsZero(),
		Upgradable: len(h.Orchestrator.UpgradeVersions(t)) > 0,
		CanAct:     canActOnTenant(u, t), Staff: u != nil && u.IsStaff(),
		Revisions: h.canRollBack(t),
	}
}

// canRollBack reports whether t's last upgrade can be undone: it runs the
// version that upgrade went to, and it was not rolled back already. One
// lookup by key; a failed one offers no rollback.
func (h *Handlers) canRollBack(t *store.Tenant) bool {
	up, err := h.DB.UpgradeOf(context.Background(), t.ID)
	return err == nil && up.State != store.UpgradeRolledBack && up.ToVersion == t.Version
}

// tenantActions lists the actions t allows u now.
func (h *Handlers) tenantActions(u *store.User, t *store.Tenant) []string {
	return domain.Actions(h.tenantFacts(u, t))
}

// allow refuses, as a conflict saying why, an action t does not allow u in
// its current state.
func (h *Handlers) allow(u *store.User, t *store.Tenant, action string) error {
	if why := domain.Refusal(h.tenantFacts(u, t), action); why != "" {
		return apperr.New(apperr.Conflict, "%s", why)
	}
	return nil
}
