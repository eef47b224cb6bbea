package runtime

import (
	"errors"
	"fmt"
)

// Sentinels an adapter's errors match (errors.Is), so callers decide
// without knowing the engine's own error types.
var (
	// ErrNotFound is matched (errors.Is) by errors about a missing container, network, volume or image.
	ErrNotFound = errors.New("not found")
	// ErrConflict is matched by errors about an object in a state or with a name that forbids the call.
	ErrConflict = errors.New("conflict")
)

// BuildError is a build that the engine ran and that failed.
type BuildError struct {
	Msg   string   // the engine's error message
	Lines []string // the last lines of output before the error
}

// Error implements error.
func (e *BuildError) Error() string { return "build failed: " + e.Msg }

// StepError is a failure of one step of an Apply or Remove, with the step
// in words for the tenant's owner ("Creating container af-…-web-1
// failed"); the wrapped error is for the log.
type StepError struct {
	Step string
	Err  error
}

// Error implements error.
func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// StepFailed wraps a non-nil err as the failure of the step in words;
// an error that already names its step keeps it. A nil err stays nil.
func StepFailed(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	return &StepError{Step: fmt.Sprintf(format, args...), Err: err}
}
