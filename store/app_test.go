package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// addUser inserts a bare user row for ownership tests.
func addUser(t *testing.T, db *store.DB, email string) string {
	t.Helper()
	id := store.NewID()
	now := store.TimeOf(db.Now())
	_, err := db.W().Exec(`INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, ?)`, id, email, email, now, now)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addTenant(t *testing.T, db *store.DB, appID, ownerID, desired string) {
	t.Helper()
	now := store.TimeOf(db.Now())
	_, err := db.W().Exec(`INSERT INTO tenants (id, app_id, owner_id, created_by, slug, platform, version, environment, replicas, desired_state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'p', '1', 'trial', 1, ?, ?, ?)`, store.NewID(), appID, ownerID, ownerID, store.NewID(), desired, now, now)
	if err != nil {
		t.Fatal(err)
	}
}

func TestAppLifecycle(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	alice, bob := addUser(t, db, "alice@example.com"), addUser(t, db, "bob@example.com")

	a := &store.App{OwnerID: alice, Name: "Docs", Platform: "contentapp", Version: "2.0"}
	a.SetComponents([]string{"comments", "search"})
	a.SetModel(domain.Model{Title: "Docs", Color: "#112233", Doctypes: []domain.Doctype{{Name: "Invoice", Fields: []domain.Field{{Name: "total", Type: "number"}}}}})
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.Status != store.AppDraft || a.Step != 1 || a.Revision != 1 || a.CustomComponentsJSON != "[]" {
		t.Errorf("defaults not applied: %+v", a)
	}
	got, err := db.AppOfOwner(ctx, a.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Components(); len(c) != 2 || c[1] != "search" {
		t.Errorf("components %v", c)
	}
	if m := got.Model(); m.Title != "Docs" || m.Doctypes[0].Fields[0].Type != "number" {
		t.Errorf("model %+v", m)
	}
	if _, err := db.AppOfOwner(ctx, a.ID, bob); apperr.Code(err) != apperr.NotFound {
		t.Errorf("bob reads alice's app: %v", err)
	}
	bobsView := *got
	bobsView.OwnerID = bob
	bobsView.Name = "stolen"
	if err := db.UpdateApp(ctx, &bobsView); apperr.Code(err) != apperr.NotFound {
		t.Errorf("bob updates alice's app: %v", err)
	}

	db.Now = func() time.Time { return time.Now().Add(time.Minute).UTC() }
	got.Step = 4
	if err := db.UpdateApp(ctx, got); err != nil {
		t.Fatal(err)
	}
	d, err := db.LatestDraft(ctx, alice)
	if err != nil || d == nil || d.ID != a.ID || d.Step != 4 {
		t.Fatalf("latest draft %+v %v", d, err)
	}
	if d, err := db.LatestDraft(ctx, bob); err != nil || d != nil {
		t.Errorf("bob has a draft %+v %v", d, err)
	}

	got.Status = store.AppReady
	if err := db.UpdateApp(ctx, got); err != nil {
		t.Fatal(err)
	}
	if d, err := db.LatestDraft(ctx, alice); err != nil || d != nil {
		t.Errorf("ready app is still the latest draft (%v)", err)
	}

	v2, err := db.CopyApp(ctx, got, "", true)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := db.CopyApp(ctx, got, "Copy of Docs", false)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Name != "Docs" || v2.Revision != 2 || v2.ParentID.String != a.ID || !v2.IsDraft() || !v2.DeployRequestedAt.IsZero() {
		t.Errorf("new version %+v", v2)
	}
	if dup.Name != "Copy of Docs" || dup.Revision != 1 || dup.ParentID.String != a.ID || dup.Model().Title != "Docs" {
		t.Errorf("duplicate %+v", dup)
	}
	list, err := db.AppsOfOwner(ctx, alice)
	if err != nil || len(list) != 3 {
		t.Fatalf("alice's apps: %d %v", len(list), err)
	}
	if l, err := db.AppsOfOwner(ctx, bob); err != nil || len(l) != 0 {
		t.Errorf("bob sees %d apps (%v)", len(l), err)
	}
}

func TestDeleteApp(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	alice, bob := addUser(t, db, "alice@example.com"), addUser(t, db, "bob@example.com")
	mk := func() *store.App {
		a := &store.App{OwnerID: alice, Name: "x"}
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	plain, live, gone := mk(), mk(), mk()
	addTenant(t, db, live.ID, alice, "running")
	addTenant(t, db, gone.ID, alice, "deleted")

	for _, tc := range []struct {
		name, id, owner, code string
	}{
		{"other user's app", plain.ID, bob, apperr.NotFound},
		{"other user's live app", live.ID, bob, apperr.NotFound},
		{"live tenants", live.ID, alice, apperr.Conflict},
		{"no tenants", plain.ID, alice, ""},
		{"deleted tenants only", gone.ID, alice, ""},
		{"twice", plain.ID, alice, apperr.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.DeleteApp(ctx, tc.id, tc.owner); apperr.Code(err) != tc.code {
				t.Errorf("DeleteApp = %v, want code %q", err, tc.code)
			}
		})
	}
	if _, err := db.AppOfOwner(ctx, gone.ID, alice); apperr.Code(err) != apperr.NotFound {
		t.Errorf("hidden app still readable: %v", err)
	}
	var n int
	db.R().Get(&n, `SELECT COUNT(*) FROM apps WHERE id = ?`, gone.ID)
	if n != 1 {
		t.Errorf("app with tenant history was removed, not hidden")
	}
}

func TestCustomComponentsPerOwner(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	alice, bob := addUser(t, db, "alice@example.com"), addUser(t, db, "bob@example.com")
	sha := "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	c := &store.CustomComponent{OwnerID: alice, SHA256: sha, Name: "theme", Version: "1.0.0", Format: "zip", Size: 10, Files: 2}
	first, created, err := db.CreateCustomComponent(ctx, c)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	again, created, err := db.CreateCustomComponent(ctx, &store.CustomComponent{OwnerID: alice, SHA256: sha, Name: "renamed", Version: "2", Format: "zip"})
	if err != nil || created || again.ID != first.ID || again.Name != "theme" {
		t.Fatalf("re-upload: %+v %v %v", again, created, err)
	}
	bobs, created, err := db.CreateCustomComponent(ctx, &store.CustomComponent{OwnerID: bob, SHA256: sha, Name: "theme", Version: "1.0.0", Format: "zip"})
	if err != nil || !created || bobs.ID == first.ID {
		t.Fatalf("bob's upload of the same bytes: %+v %v %v", bobs, created, err)
	}
	if _, err := db.CustomComponentOfOwner(ctx, first.ID, bob); apperr.Code(err) != apperr.NotFound {
		t.Errorf("bob reads alice's component: %v", err)
	}
	if l, _ := db.CustomComponentsOfOwner(ctx, alice); len(l) != 1 || l[0].ID != first.ID {
		t.Errorf("alice's list %+v", l)
	}
	if got := first.BlobPath("/data"); got != "/data/components/ab/"+sha+".zip" {
		t.Errorf("blob path %s", got)
	}
	byID, err := db.CustomComponentsByID(ctx, []string{first.ID, "nope", bobs.ID})
	if err != nil || len(byID) != 2 {
		t.Errorf("by id: %d %v", len(byID), err)
	}
}
