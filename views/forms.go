package views

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"

	"appfactory/apperr"
	"appfactory/password"
)

// FieldErrors maps a form field's name to its message.
type FieldErrors map[string]string

// Set records the message of a field (the first one wins).
func (e *FieldErrors) Set(field, msg string) {
	if *e == nil {
		*e = FieldErrors{}
	}
	if _, ok := (*e)[field]; !ok {
		(*e)[field] = msg
	}
}

// Invalid is the aria-invalid value of a field: "true" when it has an error.
func (e FieldErrors) Invalid(field string) string {
	if e[field] != "" {
		return "true"
	}
	return "false"
}

// FormError is what a form shows: errors by field and one for the whole form.
type FormError struct {
	Errors FieldErrors
	// Error is a message about the whole form (shown above its fields).
	Error string
}

// Apply shows err on the form: on its field when it names one, else above
// the form. Internal errors show a generic message.
func (f *FormError) Apply(err error) {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Field != "" {
		f.Errors.Set(ae.Field, ae.Message)
		return
	}
	f.Error = apperr.Message(err)
}

// OK reports whether the form has no error.
func (f *FormError) OK() bool { return len(f.Errors) == 0 && f.Error == "" }

// SignupForm is the sign-up form; it re-renders with what was typed, except
// the password.
type SignupForm struct {
	Name, Email, Company, Password string
	FormError
}

// Validate checks the fields and records their errors; it reports whether
// the form is valid.
func (f *SignupForm) Validate() bool {
	f.Name, f.Email, f.Company = strings.TrimSpace(f.Name), strings.TrimSpace(f.Email), strings.TrimSpace(f.Company)
	switch {
	case f.Name == "":
		f.Errors.Set("name", "Enter your name.")
	case utf8.RuneCountInString(f.Name) > 100:
		f.Errors.Set("name", "Use at most 100 characters.")
	}
	if msg := emailProblem(f.Email); msg != "" {
		f.Errors.Set("email", msg)
	}
	if utf8.RuneCountInString(f.Company) > 100 {
		f.Errors.Set("company", "Use at most 100 characters.")
	}
	if err := password.Validate(f.Password); err != nil {
		f.Apply(err)
	}
	return f.OK()
}

// emailProblem says what is wrong with an email address ("" if nothing).
func emailProblem(email string) string {
	if email == "" {
		return "Enter your email address."
	}
	if len(email) > 254 {
		return "This email address is too long."
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "Enter an email address like name@example.com."
	}
	_, domain, _ := strings.Cut(email, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "Enter an email address like name@example.com."
	}
	return ""
}

// LoginForm is the sign-in form.
type LoginForm struct {
	Email, Password string
	// Next is where to go after signing in (a local path).
	Next string
	FormError
}

// Validate checks that both fields are filled in.
func (f *LoginForm) Validate() bool {
	f.Email = strings.TrimSpace(f.Email)
	if f.Email == "" {
		f.Errors.Set("email", "Enter your email address.")
	}
	if f.Password == "" {
		f.Errors.Set("password", "Enter your password.")
	}
	return f.OK()
}

// PasswordForm changes the signed-in user's password.
type PasswordForm struct {
	Current, New string
	FormError
}

// Validate checks the new password's rules and that the current one is given.
func (f *PasswordForm) Validate() bool {
	if f.Current == "" {
		f.Errors.Set("current_password", "Enter your current password.")
	}
	if err := password.Validate(f.New); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			f.Errors.Set("new_password", ae.Message)
		}
	}
	return f.OK()
}

// TokenForm creates an API token.
type TokenForm struct {
	Name string
	FormError
}

// Validate checks the token's name.
func (f *TokenForm) Validate() bool {
	f.Name = strings.TrimSpace(f.Name)
	if utf8.RuneCountInString(f.Name) > 100 {
		f.Errors.Set("name", "Use at most 100 characters.")
	}
	return f.OK()
}
