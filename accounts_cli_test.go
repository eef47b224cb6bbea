package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"appfactory/password"
	"appfactory/store"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func TestAdminCreateAndTokenCreate(t *testing.T) {
	dir := t.TempDir()
	const pw = "correct horse battery staple"
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"weak password", []string{"admin", "create", "--data-dir", dir, "--email", "a@example.com", "--password", "short"}, false},
		{"no email", []string{"admin", "create", "--data-dir", dir, "--password", pw}, false},
		{"create", []string{"admin", "create", "--data-dir", dir, "--email", "Admin@Example.com", "--password", pw, "--name", "Ada"}, true},
		{"again promotes", []string{"admin", "create", "--data-dir", dir, "--email", "admin@example.com", "--password", pw + "!"}, true},
		{"token for nobody", []string{"token", "create", "--data-dir", dir, "--email", "nobody@example.com"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := runCmd(t, tc.args...); (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
	out, err := runCmd(t, "token", "create", "--data-dir", dir, "--email", "admin@example.com", "--name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	tok := lines[len(lines)-1]
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByToken(context.Background(), tok)
	if err != nil || u.Email != "admin@example.com" || u.Role != store.RoleAdmin || u.Name != "Ada" {
		t.Fatalf("token %q: %+v %v", tok, u, err)
	}
	if ok, _, _ := password.Verify(pw+"!", u.PasswordHash); !ok {
		t.Error("promoting did not set the new password")
	}
	// An existing prospect is promoted.
	hash, _ := password.Hash(pw)
	p := &store.User{Email: "pat@example.com", Name: "Pat", PasswordHash: hash}
	if err := db.CreateUser(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "admin", "create", "--data-dir", dir, "--email", "pat@example.com", "--password", pw); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.UserByID(context.Background(), p.ID); got.Role != store.RoleAdmin {
		t.Errorf("not promoted: %s", got.Role)
	}
}
