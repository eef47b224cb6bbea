package views

import (
	"errors"

	"appfactory/apperr"
	"appfactory/password"
)

// ForgotForm asks for the address of an account to reset.
type ForgotForm struct {
	Email string
	// Sent shows the answer given to every address, known or not.
	Sent bool
	FormError
}

// Validate checks the address's shape.
func (f *ForgotForm) Validate() bool {
	if msg := emailProblem(f.Email); msg != "" {
		f.Errors.Set("email", msg)
	}
	return f.OK()
}

// ResetForm sets a new password through a reset link.
type ResetForm struct {
	Token, Email, New string
	FormError
}

// Validate checks the new password's rules.
func (f *ResetForm) Validate() bool {
	if err := password.Validate(f.New); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			f.Errors.Set("new_password", ae.Message)
		} else {
			f.Errors.Set("new_password", "Choose another password.")
		}
	}
	return f.OK()
}

// UnsubscribeView is the page of a one-click unsubscribe link.
type UnsubscribeView struct {
	Action, Email string
	// Done says mail is off now.
	Done bool
}
