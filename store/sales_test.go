package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

func TestTemplatesAndCopies(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sales := &store.User{Email: "sales@example.com", Name: "Sales", PasswordHash: "x", Role: store.RoleSales}
	prospect := &store.User{Email: "p@example.com", Name: "P", PasswordHash: "x"}
	for _, u := range []*store.User{sales, prospect} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	tpl := &store.App{OwnerID: sales.ID, Name: "Contracts demo", Status: store.AppReady, Platform: "contentapp", Version: "1.0",
		Environment: "demo", ModelJSON: `{"title":"Contracts"}`, ComponentsJSON: `["comments"]`}
	if err := db.CreateApp(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	if list, err := db.TemplateApps(ctx); err != nil || len(list) != 0 {
		t.Fatalf("templates before marking: %d %v", len(list), err)
	}
	if err := db.SetAppTemplate(ctx, tpl.ID, true); err != nil {
		t.Fatal(err)
	}
	list, err := db.TemplateApps(ctx)
	if err != nil || len(list) != 1 || !list[0].IsTemplate {
		t.Fatalf("templates %+v %v", list, err)
	}
	if err := db.SetAppTemplate(ctx, "nope", true); apperr.Code(err) != apperr.NotFound {
		t.Errorf("unknown app: %v", err)
	}
	c, err := db.CopyTemplate(ctx, &list[0], prospect.ID, "Contracts for P")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := db.AppOfOwner(ctx, c.ID, prospect.ID)
	if got == nil || got.IsTemplate || got.Status != store.AppReady || got.ModelJSON != tpl.ModelJSON || got.ParentID.String != tpl.ID || got.Name != "Contracts for P" {
		t.Errorf("copy %+v", got)
	}
}

func TestProspectsByEngagement(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	mk := func(email, company string) *store.User {
		u := &store.User{Email: email, Name: email, Company: company, PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	quiet, busy, signedIn := mk("quiet@example.com", "Q"), mk("busy@example.com", "Busy Inc"), mk("signedin@example.com", "S")
	staff := &store.User{Email: "staff@example.com", Name: "Staff", PasswordHash: "x", Role: store.RoleSales}
	db.CreateUser(ctx, staff)
	app := &store.App{OwnerID: busy.ID, Name: "A", Platform: "contentapp", Version: "1.0", Environment: "trial"}
	db.CreateApp(ctx, app)
	tn := &store.Tenant{AppID: app.ID, OwnerID: busy.ID, CreatedBy: staff.ID, Slug: "busy", Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1}
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.W().Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO tenant_requests (tenant_id, day, requests) VALUES (?, '2026-03-09', 40), (?, '2026-03-01', 1000)`, tn.ID, tn.ID)
	exec(`UPDATE tenants SET last_active_at = ? WHERE id = ?`, store.TimeOf(now.Add(-time.Hour)), tn.ID)
	for i := range 3 {
		exec(`INSERT INTO user_logins (user_id, at) VALUES (?, ?)`, signedIn.ID, store.TimeOf(now.Add(-time.Duration(i)*time.Hour)))
	}
	exec(`INSERT INTO user_logins (user_id, at) VALUES (?, ?)`, quiet.ID, store.TimeOf(now.Add(-30*24*time.Hour)))

	list, err := db.ListProspects(ctx, store.ProspectQuery{Since: now.Add(-7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("%d prospects, want 3 (staff left out)", len(list))
	}
	if list[0].Email != "busy@example.com" || list[0].Requests != 40 || list[0].Tenants != 1 || list[0].Apps != 1 {
		t.Errorf("first %+v, want busy with 40 requests in the week", list[0])
	}
	if list[1].Email != "signedin@example.com" || list[1].Logins != 3 || list[2].Email != "quiet@example.com" || list[2].Logins != 0 {
		t.Errorf("order %s, %s", list[1].Email, list[2].Email)
	}
	if _, err := db.CreateInvite(ctx, quiet.ID, staff.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	list, _ = db.ListProspects(ctx, store.ProspectQuery{Since: now.Add(-7 * 24 * time.Hour)})
	if !list[2].Invited || list[0].Invited {
		t.Errorf("invited flags %v %v", list[2].Invited, list[0].Invited)
	}
	if !list[2].LastSeen().Equal(now.Add(-30 * 24 * time.Hour)) {
		t.Errorf("quiet last seen %v", list[2].LastSeen())
	}
	recent, _ := db.ListProspects(ctx, store.ProspectQuery{Since: now.Add(-7 * 24 * time.Hour), Sort: store.ProspectsRecent})
	if recent[0].Email != "signedin@example.com" {
		t.Errorf("most recent %s", recent[0].Email)
	}
	found, _ := db.ListProspects(ctx, store.ProspectQuery{Since: now, Search: "busy inc"})
	if len(found) != 1 || found[0].ID != busy.ID {
		t.Errorf("search by company: %+v", found)
	}
	rows, err := db.ProspectTenants(ctx, []string{busy.ID, quiet.ID})
	if err != nil || len(rows) != 1 || rows[0].Slug != "busy" || rows[0].AppName != "A" {
		t.Errorf("tenants %+v %v", rows, err)
	}
}

func TestInvites(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := &store.User{Email: "invited@example.com", Name: "invited", PasswordHash: "!unusable"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	old, _ := db.CreateInvite(ctx, u.ID, "sales", time.Hour)
	tok, err := db.CreateInvite(ctx, u.ID, "sales", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.InviteUser(ctx, old); apperr.Code(err) != apperr.NotFound {
		t.Errorf("superseded invite: %v", err)
	}
	if got, err := db.InviteUser(ctx, tok); err != nil || got.ID != u.ID {
		t.Fatalf("invite user %v %v", got, err)
	}
	if pending, _ := db.InvitePending(ctx, u.ID); !pending {
		t.Error("no pending invite before acceptance")
	}
	got, err := db.AcceptInvite(ctx, tok, "hash", "Ines", "Acme")
	if err != nil || got.PasswordHash != "hash" || got.Name != "Ines" || got.Company != "Acme" {
		t.Fatalf("accept %+v %v", got, err)
	}
	if pending, err := db.InvitePending(ctx, u.ID); err != nil || pending {
		t.Errorf("invite still pending after acceptance (%v)", err)
	}
	if _, err := db.AcceptInvite(ctx, tok, "again", "", ""); apperr.Code(err) != apperr.NotFound {
		t.Errorf("second use: %v", err)
	}
	expired, _ := db.CreateInvite(ctx, u.ID, "sales", -time.Minute)
	if _, err := db.InviteUser(ctx, expired); apperr.Code(err) != apperr.NotFound {
		t.Errorf("expired invite: %v", err)
	}
}
