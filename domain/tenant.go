package domain

// Desired states of a tenant, written by users and the passivator.
const (
	DesiredRunning    = "running"
	DesiredPassivated = "passivated"
	DesiredDeleted    = "deleted"
)

// DesiredStates lists every desired state.
func DesiredStates() []string { return []string{DesiredRunning, DesiredPassivated, DesiredDeleted} }

// Actual states of a tenant, written by the reconciler (and the passivator
// for expiry). The router's route table carries the same states.
const (
	StatePending   = "pending"
	StateBuilding  = "building"
	StateDeploying = "deploying"
	StateRunning   = "running"
	StatePaused    = "paused"
	// StatePassivating is a tenant the passivator has taken out of service
	// while it stops the containers.
	StatePassivating = "passivating"
	StatePassivated  = "passivated"
	StateActivating  = "activating"
	StateDeleting    = "deleting"
	StateFailed      = "failed"
	StateExpired     = "expired"
	StateDeleted     = "deleted"
)

// TenantStates lists every actual state, roughly in the order a tenant's
// life goes through them.
func TenantStates() []string {
	return []string{StatePending, StateBuilding, StateDeploying, StateRunning, StatePaused, StatePassivating,
		StatePassivated, StateActivating, StateFailed, StateExpired, StateDeleting, StateDeleted}
}

// Kinds of tenant events.
const (
	// EventState is a transition of the actual state.
	EventState = "state"
	// EventDesired is a change asked for by a user or the passivator.
	EventDesired = "desired"
	// EventObject is a Docker object created, replaced, started, stopped or removed.
	EventObject = "object"
	// EventBuild summarises an image build.
	EventBuild = "build"
	// EventError is a failed attempt that will be retried.
	EventError = "error"
	// EventExpiry is a trial's expiry: extended, or removed after its grace.
	EventExpiry = "expiry"
	// EventBackup is a backup taken, restored or deleted, and an upgrade
	// verified or rolled back.
	EventBackup = "backup"
)

// EventKinds lists every kind of tenant event.
func EventKinds() []string {
	return []string{EventState, EventDesired, EventObject, EventBuild, EventError, EventExpiry, EventBackup}
}
