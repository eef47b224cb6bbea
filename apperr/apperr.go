// Package apperr holds appfactory's application error: a code that the web
// layer maps to an HTTP status and a message that is safe to show a user.
package apperr

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer.
const (
	Invalid       = "invalid"       // bad input: 400 for malformed, 422 for rules
	Unprocessable = "unprocessable" // well-formed input that breaks a rule
	NotFound      = "not_found"
	Conflict      = "conflict"
	Unauthorized  = "unauthorized"
	Forbidden     = "forbidden"
	TooMany       = "too_many_requests"
	TooLarge      = "too_large"
	Unavailable   = "unavailable"
	Internal      = "internal"
)

// Error is an error whose message may be shown to the user.
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault, where there is one.
	Field string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// New returns an *Error with a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an *Error that names the field at fault.
func FieldError(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Code returns the code of err, or Internal for anything that is not an *Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// Message returns the user-facing message of err; internal errors get a
// generic message so that no detail leaks.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
