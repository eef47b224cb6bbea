package runtime

import "errors"

// Sentinels an adapter's errors match (errors.Is), so callers decide
// without knowing the engine's own error types.
var (
	// ErrNotFound is matched (errors.Is) by errors about a missing container, network, volume or image.
	ErrNotFound = errors.New("not found")
	// ErrConflict is matched by errors about an object in a state or with a name that forbids the call.
	ErrConflict = errors.New("conflict")
	// ErrSubnetOverlap is matched when a network's subnet overlaps one the engine already uses.
	ErrSubnetOverlap = errors.New("subnet overlaps an existing network")
)

// BuildError is a build that the engine ran and that failed.
type BuildError struct {
	Msg   string   // the engine's error message
	Lines []string // the last lines of output before the error
}

// Error implements error.
func (e *BuildError) Error() string { return "build failed: " + e.Msg }
