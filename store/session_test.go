package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

func newSession(t *testing.T, db *store.DB, id, userID string, ttl time.Duration) *store.Session {
	t.Helper()
	now := db.Now()
	s := &store.Session{IDHash: store.HashSessionID(id), UserID: sql.NullString{String: userID, Valid: userID != ""},
		CreatedAt: store.TimeOf(now), LastSeenAt: store.TimeOf(now), ExpiresAt: store.TimeOf(now.Add(ttl))}
	if err := db.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSessions(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	u := newUser(t, db, "a@example.com", "")
	other := newUser(t, db, "b@example.com", "")
	s1 := newSession(t, db, "one", u.ID, time.Hour)
	newSession(t, db, "two", u.ID, time.Hour)
	newSession(t, db, "three", other.ID, time.Hour)
	newSession(t, db, "visitor", "", time.Minute)

	if ss, _ := db.ListUserSessions(ctx, u.ID); len(ss) != 2 {
		t.Fatalf("sessions of u: %d", len(ss))
	}
	if err := db.DeleteUserSession(ctx, other.ID, s1.IDHash); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("another user ended u's session: %v", err)
	}
	if err := db.DeleteUserSessions(ctx, u.ID, s1.IDHash); err != nil {
		t.Fatal(err)
	}
	if ss, _ := db.ListUserSessions(ctx, u.ID); len(ss) != 1 || ss[0].IDHash != s1.IDHash {
		t.Fatalf("after ending others: %+v", ss)
	}
	if n, _ := db.CountUserSessions(ctx, other.ID); n != 1 {
		t.Fatalf("other user's sessions touched: %d", n)
	}
	// Expiry: a session past expires_at is gone for lookups, and pruned at the next creation.
	now = now.Add(2 * time.Minute)
	if _, err := db.SessionByHash(ctx, store.HashSessionID("visitor")); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("expired session found: %v", err)
	}
	if _, err := db.SessionByHash(ctx, s1.IDHash); err != nil {
		t.Fatalf("live session: %v", err)
	}
	newSession(t, db, "four", "", time.Hour)
	var n int
	db.R().Get(&n, `SELECT COUNT(*) FROM sessions WHERE id_hash = ?`, store.HashSessionID("visitor"))
	if n != 0 {
		t.Errorf("expired row not pruned")
	}
	if err := db.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountUserSessions(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("disabled user keeps %d sessions (%v)", n, err)
	}
}

func TestAttempts(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	for range 3 {
		if err := db.RecordAttempt(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(5 * time.Minute)
	}
	for _, tc := range []struct {
		window time.Duration
		want   int
	}{{time.Minute, 0}, {6 * time.Minute, 1}, {16 * time.Minute, 3}} {
		if n, err := db.CountAttempts(ctx, "k", tc.window); err != nil || n != tc.want {
			t.Errorf("window %v: %d %v, want %d", tc.window, n, err, tc.want)
		}
	}
	if n, err := db.CountAttempts(ctx, "other", time.Hour); err != nil || n != 0 {
		t.Errorf("other key: %d %v", n, err)
	}
	if err := db.ClearAttempts(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountAttempts(ctx, "k", time.Hour); err != nil || n != 0 {
		t.Errorf("after clear: %d %v", n, err)
	}
}
