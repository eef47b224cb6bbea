package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

func TestDemoCopiesComponentsCheckedBySHA256(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sales := &store.User{Email: "sales@example.com", Name: "Sales", PasswordHash: "x", Role: store.RoleSales}
	if err := db.CreateUser(ctx, sales); err != nil {
		t.Fatal(err)
	}
	src, _, err := db.CreateCustomComponent(ctx, &store.CustomComponent{OwnerID: sales.ID, SHA256: strings.Repeat("cd", 32),
		Name: "stamp", Version: "1.0.0", Filename: "stamp.tar.gz", Format: "tar.gz", Size: 42, Files: 3})
	if err != nil {
		t.Fatal(err)
	}
	tpl := &store.App{OwnerID: sales.ID, Name: "Tpl", Status: store.AppReady, Platform: "contentapp", Version: "1.0", Environment: "demo"}
	tpl.SetCustomComponents([]string{src.ID})
	if err := db.CreateApp(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	demo := func(t *testing.T, email string, tamper func([]store.ComponentCopy)) (*store.User, []string, error) {
		t.Helper()
		p := &store.User{ID: store.NewID(), Email: email, Name: "P", PasswordHash: "x", Role: store.RoleProspect}
		ids, copies, err := db.PlanComponentCopies(ctx, tpl.CustomComponents(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tamper != nil {
			tamper(copies)
		}
		app := store.TemplateCopy(tpl, p.ID, "Demo")
		app.SetCustomComponents(ids)
		tn := &store.Tenant{AppID: app.ID, OwnerID: p.ID, CreatedBy: sales.ID, Platform: "contentapp", Version: "1.0", Environment: "demo", Replicas: 1}
		_, err = db.CreateDemo(ctx, store.DemoDraft{Prospect: p, NewProspect: true, App: app, InvitedBy: sales.ID, InviteTTL: time.Hour,
			Components: copies, Deployment: &store.Deployment{Tenant: tn, Slug: func(i int) string { return "demo-" + p.ID[:6] }}})
		return p, ids, err
	}

	p, ids, err := demo(t, "a@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := db.CustomComponentOfOwner(ctx, ids[0], p.ID)
	if err != nil || cp.ID == src.ID || cp.SHA256 != src.SHA256 || cp.Size != 42 || cp.Files != 3 || cp.Filename != "stamp.tar.gz" {
		t.Fatalf("copy %+v (%v)", cp, err)
	}
	if cp.BlobPath("/data") != src.BlobPath("/data") {
		t.Errorf("the copy's archive %s is not the template's %s", cp.BlobPath("/data"), src.BlobPath("/data"))
	}

	// A copy planned for other bytes than the source now holds fails the
	// whole demo: no account, no component, no app.
	p2, _, err := demo(t, "b@example.com", func(cs []store.ComponentCopy) { cs[0].Component.SHA256 = strings.Repeat("ef", 32) })
	if apperr.Code(err) != apperr.Unprocessable {
		t.Fatalf("demo over a changed component: %v", err)
	}
	if _, err := db.UserByID(ctx, p2.ID); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the failed demo's account is left: %v", err)
	}
	if cs, _ := db.CustomComponentsOfOwner(ctx, p2.ID); len(cs) != 0 {
		t.Errorf("the failed demo's components are left: %+v", cs)
	}
}
