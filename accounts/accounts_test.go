package accounts_test

import (
	"context"
	"testing"
	"time"

	"appfactory/accounts"
	"appfactory/apperr"
	"appfactory/store"
)

func newService(t *testing.T) *accounts.Service {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hash := func(_ context.Context, pw string) (string, error) { return "hash of " + pw, nil }
	return &accounts.Service{DB: db, HashPassword: hash, SignUps: 10, SignUpWindow: time.Hour}
}

// session returns a request's Session maker that makes the row of idHash
// and remembers it.
func session(db *store.DB, idHash string, made **store.Session) func(string) (*store.Session, error) {
	return func(userID string) (*store.Session, error) {
		now := store.TimeOf(db.Now())
		*made = &store.Session{IDHash: idHash, Data: []byte("values"), CreatedAt: now, LastSeenAt: now,
			ExpiresAt: store.TimeOf(db.Now().Add(time.Hour))}
		(*made).UserID.String, (*made).UserID.Valid = userID, true
		return *made, nil
	}
}

// visitorSession writes a session without a user, as a visitor has.
func visitorSession(t *testing.T, db *store.DB, idHash string) {
	t.Helper()
	var s *store.Session
	row, _ := session(db, idHash, &s)("")
	row.UserID.Valid = false
	if err := db.CreateSession(context.Background(), row); err != nil {
		t.Fatal(err)
	}
}

func TestSignUpWritesTheAccountSignedIn(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	visitorSession(t, s.DB, "visitor")
	var made *store.Session
	u, err := s.SignUp(ctx, accounts.SignUp{Name: "Ada", Email: "Ada@Example.com", Company: "Engines", Password: "pw",
		IP: "192.0.2.1", Session: session(s.DB, "fresh", &made), ReplacesHash: "visitor"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.DB.UserByEmail(ctx, "ada@example.com")
	if err != nil || got.ID != u.ID || got.Role != store.RoleProspect || got.PasswordHash != "hash of pw" || got.Company != "Engines" {
		t.Fatalf("user %+v (%v)", got, err)
	}
	if sess, err := s.DB.SessionByHash(ctx, "fresh"); err != nil || sess.UserID.String != u.ID {
		t.Errorf("session %+v (%v), want the new account's", sess, err)
	}
	if _, err := s.DB.SessionByHash(ctx, "visitor"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the replaced session is left: %v", err)
	}
	if at, err := s.DB.LastLogin(ctx, u.ID); err != nil || at.IsZero() {
		t.Errorf("sign-in not recorded (%v)", err)
	}
}

// TestSignUpWholeOrNothing fails a write after the user's insert (the
// session's, whose id is taken): the account is not left behind, and the
// visitor's session stays; a taken email writes no session.
func TestSignUpWholeOrNothing(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	visitorSession(t, s.DB, "visitor")
	visitorSession(t, s.DB, "taken")
	var made *store.Session
	_, err := s.SignUp(ctx, accounts.SignUp{Name: "Ada", Email: "ada@example.com", Password: "pw", IP: "192.0.2.1",
		Session: session(s.DB, "taken", &made), ReplacesHash: "visitor"})
	if err == nil {
		t.Fatal("SignUp succeeded over a taken session id")
	}
	if u, err := s.DB.UserByEmail(ctx, "ada@example.com"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the account is left: %+v (%v)", u, err)
	}
	if _, err := s.DB.SessionByHash(ctx, "visitor"); err != nil {
		t.Errorf("the visitor's session ended with a failed sign-up: %v", err)
	}

	if _, err := s.SignUp(ctx, accounts.SignUp{Email: "bob@example.com", Password: "pw", IP: "192.0.2.1", Session: session(s.DB, "bob", &made)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SignUp(ctx, accounts.SignUp{Email: "Bob@example.com", Password: "pw", IP: "192.0.2.1", Session: session(s.DB, "again", &made), ReplacesHash: "visitor"})
	if apperr.Code(err) != apperr.Conflict {
		t.Fatalf("a taken email: %v, want a conflict", err)
	}
	if _, err := s.DB.SessionByHash(ctx, "again"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("a session of the refused sign-up is written: %v", err)
	}
	if _, err := s.DB.SessionByHash(ctx, "visitor"); err != nil {
		t.Errorf("the visitor's session ended with a refused sign-up: %v", err)
	}
}

func TestSignUpThrottlesAnAddress(t *testing.T) {
	s := newService(t)
	s.SignUps = 2
	ctx := context.Background()
	var made *store.Session
	for i, email := range []string{"a@example.com", "a@example.com", "c@example.com"} {
		_, err := s.SignUp(ctx, accounts.SignUp{Email: email, Password: "pw", IP: "192.0.2.1", Session: session(s.DB, email+string(rune('0'+i)), &made)})
		want := []string{"", apperr.Conflict, apperr.TooMany}[i]
		if apperr.Code(err) != want {
			t.Errorf("sign-up %d: %v, want %q", i, err, want)
		}
	}
	// Another address is not throttled.
	if _, err := s.SignUp(ctx, accounts.SignUp{Email: "c@example.com", Password: "pw", IP: "192.0.2.2", Session: session(s.DB, "other", &made)}); err != nil {
		t.Errorf("another address: %v", err)
	}
}
