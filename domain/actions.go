package domain

// Actions a user can ask of a tenant, as the API names them.
const (
	ActionPassivate = "passivate"
	ActionActivate  = "activate"
	ActionPause     = "pause"
	ActionRestart   = "restart"
	ActionUpgrade   = "upgrade"
	ActionRollback  = "rollback"
	ActionBackup    = "backup"
	ActionRestore   = "restore"
	ActionExtend    = "extend"
	ActionDelete    = "delete"
)

// AllActions lists every action in the order tenant objects list them.
func AllActions() []string {
	return []string{ActionActivate, ActionPassivate, ActionPause, ActionRestart, ActionUpgrade, ActionRollback,
		ActionBackup, ActionRestore, ActionExtend, ActionDelete}
}

// TenantFacts is what decides the actions a tenant allows a user.
type TenantFacts struct {
	State   string
	Desired string
	// Paused is the asked-for pause of a running tenant.
	Paused bool
	// Trial is a tenant with an expiry.
	Trial bool
	// Upgradable: another version of the platform supports the tenant.
	Upgradable bool
	// Revisions: a previous revision exists to roll back to.
	Revisions bool
	// CanAct: the user may change the tenant (owner, its seller, admins).
	CanAct bool
	// Staff: the user is a sales person or an admin.
	Staff bool
}

// Actions lists the actions f allows, in AllActions order.
func Actions(f TenantFacts) []string {
	out := []string{}
	for _, a := range AllActions() {
		if Refusal(f, a) == "" {
			out = append(out, a)
		}
	}
	return out
}

// phase folds the actual and desired state into what decides the actions.
func (f TenantFacts) phase() string {
	switch {
	case f.Desired == DesiredDeleted || f.State == StateDeleting || f.State == StateDeleted:
		return StateDeleted
	case f.State == StateRunning && f.Desired == DesiredPassivated:
		return StatePassivating
	case f.State == StateRunning && f.Paused:
		return StatePaused
	}
	return f.State
}

// Refusal says why f does not allow action now, in words for the user; ""
// when it is allowed.
func Refusal(f TenantFacts, action string) string {
	phase := f.phase()
	if phase == StateDeleted {
		return "This deployment is deleted."
	}
	if action == ActionExtend {
		switch {
		case !f.Staff:
			return "Ask your contact to extend this trial."
		case !f.Trial:
			return "This deployment is not a trial: it does not expire."
		}
		return ""
	}
	if !f.CanAct {
		return "Only the owner of this deployment or an admin can change it."
	}
	if action == ActionDelete {
		return ""
	}
	switch phase {
	case StateExpired:
		if action == ActionBackup {
			return ""
		}
		return "This trial has expired: extend it before starting it."
	case StatePending, StateBuilding, StateDeploying:
		return "This deployment is still being built and started: wait until it runs."
	case StateActivating, StatePassivating:
		return "This deployment is " + phase + ": wait until it settles."
	}
	return settledRefusal(f, phase, action)
}

// settledRefusal decides for a running, paused, passivated or failed tenant.
func settledRefusal(f TenantFacts, phase, action string) string {
	switch action {
	case ActionActivate:
		if phase == StateRunning {
			return "This deployment is already running."
		}
	case ActionPassivate:
		if phase == StatePassivated {
			return "This deployment is already stopped."
		}
	case ActionPause:
		switch phase {
		case StatePaused:
			return "This deployment is already paused."
		case StatePassivated:
			return "This deployment is stopped: activate it first."
		case StateFailed:
			return "This deployment failed: restart it instead."
		}
	case ActionUpgrade:
		if !f.Upgradable {
			return "No other version of this platform supports this deployment."
		}
	case ActionRollback:
		if !f.Revisions {
			return "This deployment has no previous revision to roll back to."
		}
	case ActionRestart, ActionBackup, ActionRestore:
	default:
		return "Unknown action " + action + "."
	}
	return ""
}
