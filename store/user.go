package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/apperr"
)

// Roles a user can have.
const (
	RoleProspect = "prospect"
	RoleSales    = "sales"
	RoleAdmin    = "admin"
)

// Roles lists every role, lowest first.
func Roles() []string { return []string{RoleProspect, RoleSales, RoleAdmin} }

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	return r == RoleProspect || r == RoleSales || r == RoleAdmin
}

// User is an account of the portal.
type User struct {
	ID           string `db:"id"`
	Email        string `db:"email"`
	Name         string `db:"name"`
	Company      string `db:"company"`
	PasswordHash string `db:"password_hash"`
	Role         string `db:"role"`
	Disabled     bool   `db:"disabled"`
	CreatedAt    Time   `db:"created_at"`
	UpdatedAt    Time   `db:"updated_at"`
	// EmailVerifiedAt is when the user proved the email is theirs (zero: not yet).
	EmailVerifiedAt Time `db:"email_verified_at"`
	// MailOptOut turns off every mail but security mail.
	MailOptOut bool `db:"mail_opt_out"`
}

// Verified reports whether the user proved the email is theirs.
func (u *User) Verified() bool { return !u.EmailVerifiedAt.IsZero() }

// IsStaff reports whether the user works for the vendor (sales or admin).
func (u *User) IsStaff() bool { return u.Role == RoleSales || u.Role == RoleAdmin }

// IsAdmin reports whether the user is an admin.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// NormalizeEmail is the form in which emails are stored and looked up:
// trimmed and lower-cased.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

const userColumns = `id, email, name, company, password_hash, role, disabled, created_at, updated_at, email_verified_at, mail_opt_out`

// CreateUser inserts u, filling its ID, timestamps and default role, and
// normalising its email. A taken email is a conflict.
func (db *DB) CreateUser(ctx context.Context, u *User) error {
	return db.createUser(ctx, db.w, u)
}

// createUser is CreateUser through e: the writer or a transaction of it.
func (db *DB) createUser(ctx context.Context, e sqlx.ExtContext, u *User) error {
	u.Email = NormalizeEmail(u.Email)
	if u.Email == "" {
		return apperr.FieldError(apperr.Unprocessable, "email", "Enter an email address.")
	}
	if u.Role == "" {
		u.Role = RoleProspect
	}
	if !ValidRole(u.Role) {
		return apperr.New(apperr.Invalid, "Unknown role %q.", u.Role)
	}
	if u.ID == "" {
		u.ID = NewID()
	}
	now := TimeOf(db.Now())
	u.CreatedAt, u.UpdatedAt = now, now
	_, err := sqlx.NamedExecContext(ctx, e, `INSERT INTO users (`+userColumns+`)
		VALUES (:id, :email, :name, :company, :password_hash, :role, :disabled, :created_at, :updated_at, :email_verified_at, :mail_opt_out)`, u)
	if IsUniqueViolation(err) {
		return apperr.FieldError(apperr.Conflict, "email", "An account with this email already exists.")
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UserByID returns a user; not_found when there is none.
func (db *DB) UserByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := db.r.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = ?`, id); err != nil {
		return nil, NotFound(err, "User")
	}
	return &u, nil
}

// UserByEmail returns the user of an email (normalised first); not_found
// when there is none.
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := db.r.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE email = ?`, NormalizeEmail(email)); err != nil {
		return nil, NotFound(err, "User")
	}
	return &u, nil
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	// Role keeps one role only when set.
	Role string
	// Query matches a substring of the email, name or company.
	Query string
	// Limit caps the rows (default 200); Offset skips rows.
	Limit, Offset int
}

// ListUsers returns users, newest first.
func (db *DB) ListUsers(ctx context.Context, f UserFilter) ([]User, error) {
	q := `SELECT ` + userColumns + ` FROM users WHERE 1=1`
	var args []any
	if f.Role != "" {
		q += ` AND role = ?`
		args = append(args, f.Role)
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		q += ` AND (email LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\' OR lower(company) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	q += ` ORDER BY created_at DESC, id LIMIT ? OFFSET ?`
	args = append(args, f.Limit, f.Offset)
	var users []User
	if err := db.r.SelectContext(ctx, &users, q, args...); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// updateUser runs one UPDATE of a user's row and reports not_found when no
// row matched.
func (db *DB) updateUser(ctx context.Context, id, set string, args ...any) error {
	args = append(args, formatTime(db.Now()), id)
	res, err := db.w.ExecContext(ctx, `UPDATE users SET `+set+`, updated_at = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "User not found.")
	}
	return nil
}

// SetUserRole changes a user's role.
func (db *DB) SetUserRole(ctx context.Context, id, role string) error {
	if !ValidRole(role) {
		return apperr.FieldError(apperr.Invalid, "role", "Unknown role %q.", role)
	}
	return db.updateUser(ctx, id, `role = ?`, role)
}

// SetUserDisabled disables or enables a user. Disabling also ends every
// session of the user.
func (db *DB) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	if err := db.updateUser(ctx, id, `disabled = ?`, disabled); err != nil {
		return err
	}
	if disabled {
		return db.DeleteUserSessions(ctx, id, "")
	}
	return nil
}

// SetPassword stores a new password hash (never a password) for a user.
func (db *DB) SetPassword(ctx context.Context, id, hash string) error {
	return db.updateUser(ctx, id, `password_hash = ?`, hash)
}

// CountUsersWithRole counts the accounts of a role, disabled ones included.
func (db *DB) CountUsersWithRole(ctx context.Context, role string) (int, error) {
	var n int
	if err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM users WHERE role = ?`, role); err != nil {
		return 0, fmt.Errorf("count %s users: %w", role, err)
	}
	return n, nil
}

// RecordLogin notes a sign-in of a user (table user_logins, for the sales
// view's engagement figures).
func (db *DB) RecordLogin(ctx context.Context, userID string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO user_logins (user_id, at) VALUES (?, ?)`, userID, formatTime(db.Now()))
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// LastLogin is when a user last signed in (zero when never).
func (db *DB) LastLogin(ctx context.Context, userID string) (time.Time, error) {
	var at Time
	if err := db.r.GetContext(ctx, &at, `SELECT MAX(at) FROM user_logins WHERE user_id = ?`, userID); err != nil {
		return time.Time{}, fmt.Errorf("last login: %w", err)
	}
	return at.Time, nil
}
