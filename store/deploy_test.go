package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

// draftApp saves a draft app of a new user.
func draftApp(t *testing.T, db *store.DB, email string) (*store.User, *store.App) {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Email: email, Name: "Owner", PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := &store.App{OwnerID: u.ID, Name: "Acme", Platform: "contentapp", Version: "1.0", Environment: "trial", Step: 3}
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	return u, a
}

// deployment of a, trying the slugs acme, acme-2, ...
func deployment(u *store.User, a *store.App) *store.Deployment {
	return &store.Deployment{Tenant: newTenant(u.ID, a.ID, ""), MaxPerOwner: 3, Slug: func(i int) string {
		if i == 0 {
			return "acme"
		}
		return fmt.Sprintf("acme-%d", i+1)
	}}
}

func TestCreateDeploymentFinishesTheAppAndTriesSlugs(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u, a := draftApp(t, db, "owner@example.com")
	if err := db.CreateTenant(ctx, newTenant(u.ID, a.ID, "acme"), 0); err != nil {
		t.Fatal(err)
	}

	d := deployment(u, a)
	a.Status, a.Step = store.AppReady, 6
	d.Finish = a
	if err := db.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.Tenant.Slug != "acme-2" {
		t.Errorf("slug %q, want acme-2 (acme is taken)", d.Tenant.Slug)
	}
	if got, err := db.AppByID(ctx, a.ID); err != nil || got.Status != store.AppReady || got.Step != 6 {
		t.Errorf("app %+v (%v), want ready at step 6", got, err)
	}
	if evs, err := db.ListEvents(ctx, d.Tenant.ID, 0, 10); err != nil || len(evs) != 1 {
		t.Errorf("events %v (%v), want the creation", evs, err)
	}
}

// TestCreateDeploymentWholeOrNothing fails the tenant's insert, after the
// app was saved finished in the same transaction: the app stays a draft.
func TestCreateDeploymentWholeOrNothing(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u, a := draftApp(t, db, "owner@example.com")
	if err := db.CreateTenant(ctx, newTenant(u.ID, a.ID, "taken"), 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		spoil func(d *store.Deployment)
	}{
		{"creator is no user", func(d *store.Deployment) { d.Tenant.CreatedBy = "nobody" }},
		{"no free slug", func(d *store.Deployment) { d.Slug = func(int) string { return "taken" } }},
		{"limit reached", func(d *store.Deployment) { d.MaxPerOwner = 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := deployment(u, a)
			tc.spoil(d)
			finished := *a
			finished.Status, finished.Step = store.AppReady, 6
			d.Finish = &finished
			if err := db.CreateDeployment(ctx, d); err == nil {
				t.Fatal("CreateDeployment succeeded")
			}
			if got, err := db.AppByID(ctx, a.ID); err != nil || got.Status != store.AppDraft || got.Step != 3 {
				t.Errorf("app %+v (%v), want the draft as it was", got, err)
			}
			if ts, err := db.ListTenants(ctx, store.TenantFilter{AppID: a.ID}); err != nil || len(ts) != 1 {
				t.Errorf("%d tenants (%v), want the one that holds the slug", len(ts), err)
			}
		})
	}
}

// TestCreateDemoWholeOrNothing writes a demo for a new prospect whose
// tenant fails: the account, the app and the invitation go with it; then
// the same demo with a good tenant writes all four.
func TestCreateDemoWholeOrNothing(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	seller, tpl := draftApp(t, db, "seller@example.com")
	tpl.Status = store.AppReady
	if err := db.UpdateApp(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	draft := func(createdBy string) store.DemoDraft {
		p := &store.User{ID: store.NewID(), Email: "lead@example.com", Name: "Lead", PasswordHash: "x"}
		app := store.TemplateCopy(tpl, p.ID, "Acme Lead")
		d := deployment(p, app)
		d.Tenant.CreatedBy = createdBy
		return store.DemoDraft{Prospect: p, NewProspect: true, App: app, InvitedBy: seller.ID, InviteTTL: time.Hour, Deployment: d}
	}

	bad := draft("nobody")
	if _, err := db.CreateDemo(ctx, bad); err == nil {
		t.Fatal("CreateDemo succeeded over a failing tenant")
	}
	if u, err := db.UserByEmail(ctx, "lead@example.com"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("account left: %+v (%v)", u, err)
	}
	if a, err := db.AppByID(ctx, bad.App.ID); apperr.Code(err) != apperr.NotFound {
		t.Errorf("app left: %+v (%v)", a, err)
	}
	if pending, err := db.InvitePending(ctx, bad.Prospect.ID); err != nil || pending {
		t.Errorf("invitation left: %v (%v)", pending, err)
	}

	good := draft(seller.ID)
	token, err := db.CreateDemo(ctx, good)
	if err != nil || token == "" {
		t.Fatalf("CreateDemo: %q, %v", token, err)
	}
	if u, err := db.InviteUser(ctx, token); err != nil || u.ID != good.Prospect.ID {
		t.Errorf("invitation for %+v (%v)", u, err)
	}
	if tn, err := db.TenantByID(ctx, good.Deployment.Tenant.ID); err != nil || tn.AppID != good.App.ID || tn.OwnerID != good.Prospect.ID {
		t.Errorf("tenant %+v (%v)", tn, err)
	}
}
