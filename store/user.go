package store

import "time"

// Roles a user can have.
const (
	RoleProspect = "prospect"
	RoleSales    = "sales"
	RoleAdmin    = "admin"
)

// User is an account of the portal.
type User struct {
	ID           string `db:"id"`
	Email        string `db:"email"`
	Name         string `db:"name"`
	Company      string `db:"company"`
	PasswordHash string `db:"password_hash"`
	Role         string `db:"role"`
	Disabled     bool   `db:"disabled"`
	CreatedAtS   string `db:"created_at"`
	UpdatedAtS   string `db:"updated_at"`
}

// CreatedAt is when the account was made.
func (u *User) CreatedAt() time.Time { return ParseTime(u.CreatedAtS) }

// IsStaff reports whether the user works for the vendor (sales or admin).
func (u *User) IsStaff() bool { return u.Role == RoleSales || u.Role == RoleAdmin }
