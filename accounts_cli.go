package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"appfactory/apperr"
	"appfactory/password"
	"appfactory/store"
)

// cmdAdminCreate creates an admin, or promotes an existing user to admin
// and sets the given password.
func cmdAdminCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin create", stderr)
	email := fs.String("email", "", "email of the admin (required)")
	pw := fs.String("password", "", "password of the admin (required; at least 8 characters)")
	name := fs.String("name", "", "display name (default: the part of the email before @)")
	dataDir := fs.String("data-dir", "./data", "data directory of the database")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" || *pw == "" {
		return fmt.Errorf("admin create: --email and --password are required")
	}
	if err := password.Validate(*pw); err != nil {
		return fmt.Errorf("admin create: password: %s", apperr.Message(err))
	}
	hash, err := password.Hash(*pw)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, *email)
	switch {
	case apperr.Code(err) == apperr.NotFound:
		n := *name
		if n == "" {
			n, _, _ = strings.Cut(store.NormalizeEmail(*email), "@")
		}
		// The operator vouches for the address of an admin they make.
		u = &store.User{Email: *email, Name: n, PasswordHash: hash, Role: store.RoleAdmin, EmailVerifiedAt: store.TimeOf(time.Now())}
		if err := db.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("admin create: %s", apperr.Message(err))
		}
		fmt.Fprintf(stdout, "created admin %s (id %s)\n", u.Email, u.ID)
		return nil
	case err != nil:
		return err
	}
	if err := db.SetUserRole(ctx, u.ID, store.RoleAdmin); err != nil {
		return err
	}
	if err := db.SetPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	if u.Disabled {
		if err := db.SetUserDisabled(ctx, u.ID, false); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s is now an admin, with the given password (id %s)\n", u.Email, u.ID)
	return nil
}

// cmdTokenCreate prints a new API token of a user, alone on the last line.
func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token create", stderr)
	email := fs.String("email", "", "email of the user the token acts as (required)")
	name := fs.String("name", "cli", "name of the token, shown on the account page")
	dataDir := fs.String("data-dir", "./data", "data directory of the database")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return fmt.Errorf("token create: --email is required")
	}
	db, err := store.Open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("token create: %s", apperr.Message(err))
	}
	tok, _, err := db.CreateToken(ctx, u.ID, *name)
	if err != nil {
		return fmt.Errorf("token create: %s", apperr.Message(err))
	}
	fmt.Fprintf(stdout, "API token for %s (%s); it is not shown again:\n%s\n", u.Email, u.Role, tok)
	return nil
}
