package domain_test

import (
	"slices"
	"testing"

	"appfactory/domain"
)

func TestActions(t *testing.T) {
	owner := domain.TenantFacts{Desired: domain.DesiredRunning, CanAct: true, Upgradable: true}
	with := func(f domain.TenantFacts, state string) domain.TenantFacts { f.State = state; return f }
	staffTrial := owner
	staffTrial.Staff, staffTrial.Trial = true, true
	deleted := with(owner, domain.StateRunning)
	deleted.Desired = domain.DesiredDeleted
	stopping := with(owner, domain.StateRunning)
	stopping.Desired = domain.DesiredPassivated
	pausedFlag := with(owner, domain.StateRunning)
	pausedFlag.Paused = true
	noUpgrade := with(owner, domain.StateRunning)
	noUpgrade.Upgradable = false
	viewer := with(owner, domain.StateRunning)
	viewer.CanAct = false
	for _, tc := range []struct {
		name  string
		facts domain.TenantFacts
		want  []string
	}{
		{"running", with(owner, domain.StateRunning), []string{"passivate", "pause", "restart", "upgrade", "backup", "restore", "delete"}},
		{"paused", with(owner, domain.StatePaused), []string{"activate", "passivate", "restart", "upgrade", "backup", "restore", "delete"}},
		{"pause asked, not yet frozen", pausedFlag, []string{"activate", "passivate", "restart", "upgrade", "backup", "restore", "delete"}},
		{"passivated", with(owner, domain.StatePassivated), []string{"activate", "restart", "upgrade", "backup", "restore", "delete"}},
		{"failed", with(owner, domain.StateFailed), []string{"activate", "passivate", "restart", "upgrade", "backup", "restore", "delete"}},
		{"building", with(owner, domain.StateBuilding), []string{"delete"}},
		{"stopping", stopping, []string{"delete"}},
		{"expired", with(owner, domain.StateExpired), []string{"backup", "delete"}},
		{"expired trial, staff", with(staffTrial, domain.StateExpired), []string{"backup", "extend", "delete"}},
		{"running trial, staff", with(staffTrial, domain.StateRunning), []string{"passivate", "pause", "restart", "upgrade", "backup", "restore", "extend", "delete"}},
		{"no other version", noUpgrade, []string{"passivate", "pause", "restart", "backup", "restore", "delete"}},
		{"a viewer who cannot act", viewer, []string{}},
		{"deleted", deleted, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := domain.Actions(tc.facts); !slices.Equal(got, tc.want) {
				t.Errorf("Actions = %v, want %v", got, tc.want)
			}
			for _, a := range domain.AllActions() {
				allowed := slices.Contains(tc.want, a)
				if why := domain.Refusal(tc.facts, a); (why == "") != allowed {
					t.Errorf("Refusal(%s) = %q, allowed %v", a, why, allowed)
				}
			}
		})
	}
	if why := domain.Refusal(with(owner, domain.StateRunning), "fly"); why == "" {
		t.Error("an unknown action is allowed")
	}
	rb := with(owner, domain.StateRunning)
	rb.Revisions = true
	if !slices.Contains(domain.Actions(rb), domain.ActionRollback) {
		t.Error("a tenant with a previous revision offers no rollback")
	}
}
