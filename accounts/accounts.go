// Package accounts holds the portal's account workflows, below the web
// layer: a visitor's sign-up, with its throttle, its password hash and the
// one write that makes the account and signs it in.
package accounts

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

// Service makes accounts.
type Service struct {
	DB *store.DB
	// HashPassword hashes a new account's password.
	HashPassword func(ctx context.Context, password string) (string, error)
	// SignUps is how many sign-ups one address may make within SignUpWindow.
	SignUps      int
	SignUpWindow time.Duration
	Logger       *slog.Logger
}

// SignUp is a visitor's request for an account, already validated.
type SignUp struct {
	Name, Email, Company, Password string
	// IP is the visitor's address, which the sign-up throttle counts.
	IP string
	// Session makes the new account's first session for its user id; it
	// is written with the account. The caller hands out its cookie.
	Session func(userID string) (*store.Session, error)
	// ReplacesHash is the visitor's session that the new one replaces
	// (its id's hash, "" for none); it ends with the write.
	ReplacesHash string
}

// throttleKey is the key of the sign-up throttle of an address.
func throttleKey(ip string) string { return "signup-ip:" + ip }

// SignUp makes a prospect's account and its first session in one write.
// Too many sign-ups from the address are too_many_requests; a taken email
// is a conflict, and writes no account.
func (s *Service) SignUp(ctx context.Context, req SignUp) (*store.User, error) {
	key := throttleKey(req.IP)
	if n, err := s.DB.CountAttempts(ctx, key, s.SignUpWindow); err != nil {
		return nil, err
	} else if n >= s.SignUps {
		s.log().Warn("sign-ups throttled", "ip", req.IP)
		return nil, apperr.New(apperr.TooMany, "Too many sign-ups from your network. Try again in an hour.")
	}
	// Every sign-up counts, failed ones too (kept outside the account's
	// transaction), so that the "account exists" answer cannot be used
	// to test many emails.
	if err := s.DB.RecordAttempt(ctx, key); err != nil {
		return nil, err
	}
	hash, err := s.HashPassword(ctx, req.Password)
	if err != nil {
		return nil, err
	}
	u := &store.User{ID: store.NewID(), Email: req.Email, Name: req.Name, Company: req.Company, PasswordHash: hash, Role: store.RoleProspect}
	sess, err := req.Session(u.ID)
	if err != nil {
		return nil, fmt.Errorf("sign-up session: %w", err)
	}
	if err := s.DB.SignUp(ctx, u, sess, req.ReplacesHash); err != nil {
		return nil, err
	}
	s.log().Info("signed up", "user", u.ID)
	return u, nil
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
