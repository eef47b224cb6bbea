package store_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"appfactory/apperr"
	"appfactory/store"
)

func TestTokens(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := newUser(t, db, "a@example.com", store.RoleSales)
	other := newUser(t, db, "b@example.com", "")
	plain, tok, err := db.CreateToken(ctx, u.ID, "ci")
	if err != nil || !strings.HasPrefix(plain, store.TokenPrefix) || tok.Name != "ci" || strings.Contains(tok.TokenHash, plain) {
		t.Fatalf("create: %q %+v %v", plain, tok, err)
	}
	got, err := db.UserByToken(ctx, plain)
	if err != nil || got.ID != u.ID || got.Role != store.RoleSales {
		t.Fatalf("by token: %+v %v", got, err)
	}
	for _, bad := range []string{"", "af_nope", plain + "x", strings.TrimPrefix(plain, store.TokenPrefix), tok.TokenHash} {
		if _, err := db.UserByToken(ctx, bad); apperr.Code(err) != apperr.Unauthorized {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	ts, _ := db.ListTokens(ctx, u.ID)
	if len(ts) != 1 || ts[0].LastUsedAt.IsZero() {
		t.Fatalf("list: %+v", ts)
	}
	if err := db.DeleteToken(ctx, other.ID, tok.ID); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("another user revoked the token: %v", err)
	}
	db.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, _ := os.ReadFile(db.Path + suffix)
		if bytes.Contains(b, []byte(plain)) {
			t.Errorf("token in clear in %s", db.Path+suffix)
		}
	}
}

func TestDeleteToken(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := newUser(t, db, "a@example.com", "")
	plain, tok, _ := db.CreateToken(ctx, u.ID, "")
	if tok.Name != "API token" {
		t.Errorf("default name %q", tok.Name)
	}
	if err := db.DeleteToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByToken(ctx, plain); apperr.Code(err) != apperr.Unauthorized {
		t.Fatalf("revoked token still works: %v", err)
	}
}
