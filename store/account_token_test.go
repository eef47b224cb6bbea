package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

func TestAccountTokensAreHashedAndSingleUse(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := &store.User{Email: "pia@example.com", Name: "Pia", PasswordHash: "old"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.Verified() {
		t.Fatal("a new account is verified")
	}
	first, err := db.CreateAccountToken(ctx, u.ID, store.TokenResetPassword, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateAccountToken(ctx, u.ID, store.TokenResetPassword, time.Hour, func(token string) (*store.OutboxMail, error) {
		return &store.OutboxMail{Kind: "reset", UserID: u.ID, To: u.Email, Subject: "s", Text: token, HTML: token}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	if err := db.R().Select(&stored, `SELECT token_hash FROM account_tokens`); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] == tok || stored[0] == first {
		t.Fatalf("stored %v: want one hash, never the token", stored)
	}
	if _, err := db.AccountTokenUser(ctx, store.TokenResetPassword, first); apperr.Code(err) != apperr.NotFound {
		t.Errorf("an earlier token still works: %v", err)
	}
	if _, err := db.AccountTokenUser(ctx, store.TokenVerifyEmail, tok); apperr.Code(err) != apperr.NotFound {
		t.Errorf("a reset token verifies an email: %v", err)
	}
	got, err := db.ResetPassword(ctx, tok, "new")
	if err != nil || got.PasswordHash != "new" || !got.Verified() {
		t.Fatalf("reset: %+v %v", got, err)
	}
	if _, err := db.ResetPassword(ctx, tok, "again"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("a used token: %v", err)
	}
	ms, _ := db.ListOutbox(ctx, 10)
	if len(ms) != 1 || ms[0].Text != tok {
		t.Errorf("the token's mail: %+v", ms)
	}
	expired, _ := db.CreateAccountToken(ctx, u.ID, store.TokenVerifyEmail, -time.Second, nil)
	if _, err := db.VerifyEmail(ctx, expired); apperr.Code(err) != apperr.NotFound {
		t.Errorf("an expired token: %v", err)
	}
}
