package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

func newUser(t *testing.T, db *store.DB, email, role string) *store.User {
	t.Helper()
	u := &store.User{Email: email, Name: "N " + email, PasswordHash: "$argon2id$x", Role: role}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func TestCreateUserNormalisesAndRefusesDuplicates(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := newUser(t, db, "  Pat@Example.COM ", "")
	if u.Email != "pat@example.com" || u.Role != store.RoleProspect || u.ID == "" || u.CreatedAt.IsZero() {
		t.Fatalf("created %+v", u)
	}
	err := db.CreateUser(ctx, &store.User{Email: "PAT@example.com", Name: "x", PasswordHash: "h"})
	if apperr.Code(err) != apperr.Conflict {
		t.Fatalf("duplicate: %v", err)
	}
	got, err := db.UserByEmail(ctx, "pat@EXAMPLE.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("by email: %+v %v", got, err)
	}
	if _, err := db.UserByID(ctx, "nope"); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("missing id: %v", err)
	}
	if _, err := db.UserByEmail(ctx, "nope@example.com"); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("missing email: %v", err)
	}
	if err := db.CreateUser(ctx, &store.User{Email: "x@example.com", Role: "root"}); apperr.Code(err) != apperr.Invalid {
		t.Fatalf("bad role: %v", err)
	}
}

func TestUserUpdatesAndList(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	a := newUser(t, db, "a@example.com", store.RoleProspect)
	b := newUser(t, db, "b_x@example.com", store.RoleSales)
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"role", db.SetUserRole(ctx, a.ID, store.RoleAdmin), ""},
		{"bad role", db.SetUserRole(ctx, a.ID, "owner"), apperr.Invalid},
		{"missing user", db.SetUserRole(ctx, "nope", store.RoleAdmin), apperr.NotFound},
		{"disable", db.SetUserDisabled(ctx, b.ID, true), ""},
		{"password", db.SetPassword(ctx, a.ID, "newhash"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if apperr.Code(tc.err) != tc.code {
				t.Errorf("err %v, want code %q", tc.err, tc.code)
			}
		})
	}
	got, _ := db.UserByID(ctx, a.ID)
	if got.Role != store.RoleAdmin || got.PasswordHash != "newhash" || !got.IsAdmin() {
		t.Errorf("after updates: %+v", got)
	}
	if got, _ := db.UserByID(ctx, b.ID); !got.Disabled {
		t.Errorf("b not disabled")
	}
	for _, tc := range []struct {
		name string
		f    store.UserFilter
		want int
	}{
		{"all", store.UserFilter{}, 2},
		{"role", store.UserFilter{Role: store.RoleSales}, 1},
		{"query", store.UserFilter{Query: "B_X"}, 1},
		{"like metachar is literal", store.UserFilter{Query: "_"}, 1},
		{"limit", store.UserFilter{Limit: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us, err := db.ListUsers(ctx, tc.f)
			if err != nil || len(us) != tc.want {
				t.Errorf("got %d users (%v), want %d", len(us), err, tc.want)
			}
		})
	}
}

func TestRecordLogin(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := newUser(t, db, "a@example.com", "")
	if at, err := db.LastLogin(ctx, u.ID); err != nil || !at.IsZero() {
		t.Fatalf("before: %v %v", at, err)
	}
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	db.Now = func() time.Time { return fixed }
	if err := db.RecordLogin(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if at, err := db.LastLogin(ctx, u.ID); err != nil || !at.Equal(fixed) {
		t.Fatalf("after: %v %v", at, err)
	}
}
