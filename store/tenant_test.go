package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// seedOwnerApp inserts a user and an app for tenants to hang from.
func seedOwnerApp(t *testing.T, db *store.DB) (userID, appID string) {
	t.Helper()
	ctx := context.Background()
	userID, appID = store.NewID(), store.NewID()
	now := store.TimeOf(db.Now())
	if _, err := db.W().ExecContext(ctx, `INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, 'Owner', 'x', ?, ?)`, userID, userID+"@example.com", now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W().ExecContext(ctx, `INSERT INTO apps (id, owner_id, name, platform, version, environment, created_at, updated_at) VALUES (?, ?, 'Acme', 'contentapp', '1.0', 'trial', ?, ?)`, appID, userID, now, now); err != nil {
		t.Fatal(err)
	}
	return userID, appID
}

func newTenant(userID, appID, slug string) *store.Tenant {
	return &store.Tenant{AppID: appID, OwnerID: userID, CreatedBy: userID, Slug: slug, Title: "Acme",
		Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1}
}

func TestCreateTenantSlugAndLimit(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	user, app := seedOwnerApp(t, db)

	a := newTenant(user, app, "acme")
	if err := db.CreateTenant(ctx, a, 2); err != nil {
		t.Fatalf("create: %v", err)
	}
	if a.ID == "" || a.State != domain.StatePending || a.DesiredState != domain.DesiredRunning || a.Generation != 1 {
		t.Fatalf("defaults not filled: %+v", a)
	}
	if err := db.CreateTenant(ctx, newTenant(user, app, "acme"), 2); !errors.Is(err, store.ErrSlugTaken) {
		t.Fatalf("same slug: %v, want ErrSlugTaken", err)
	}
	if err := db.CreateTenant(ctx, newTenant(user, app, "acme-2"), 2); err != nil {
		t.Fatalf("second: %v", err)
	}
	err := db.CreateTenant(ctx, newTenant(user, app, "acme-3"), 2)
	if apperr.Code(err) != apperr.Unprocessable {
		t.Fatalf("third beyond limit: %v, want unprocessable", err)
	}
	// A deleted tenant no longer counts.
	if err := db.SetDesiredState(ctx, a.ID, domain.DesiredDeleted); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTenant(ctx, newTenant(user, app, "acme-3"), 2); err != nil {
		t.Fatalf("after delete: %v", err)
	}
	got, err := db.TenantBySlug(ctx, "acme")
	if err != nil || got.ID != a.ID || got.DeletedAt.IsZero() {
		t.Fatalf("by slug: %+v %v", got, err)
	}
	if _, err := db.TenantByID(ctx, "nope"); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("missing: %v", err)
	}
}

func TestSetTenantStateRecordsTransitionsOnce(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	user, app := seedOwnerApp(t, db)
	tn := newTenant(user, app, "acme")
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ state, msg string }{
		{domain.StateBuilding, "building image"},
		{domain.StateBuilding, "building image"}, // unchanged: no event
		{domain.StateDeploying, ""},
		{domain.StateRunning, ""},
	}
	for _, s := range steps {
		if err := db.SetTenantState(ctx, tn.ID, s.state, s.msg); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := db.ListEvents(ctx, tn.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range evs {
		msgs = append(msgs, e.Message)
	}
	want := []string{"Deployment acme created", "pending → building: building image", "building → deploying", "deploying → running"}
	if len(msgs) != len(want) {
		t.Fatalf("events %q, want %d", msgs, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(msgs[i], want[i]) {
			t.Errorf("event %d = %q, want prefix %q", i, msgs[i], want[i])
		}
	}
	after, _ := db.ListEvents(ctx, tn.ID, evs[1].ID, 1)
	if len(after) != 1 || after[0].ID != evs[3].ID {
		t.Errorf("after %d limit 1: %+v, want the latest", evs[1].ID, after)
	}
}

func TestReconcileListAndGeneration(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	user, app := seedOwnerApp(t, db)
	a, b := newTenant(user, app, "a"), newTenant(user, app, "b")
	for _, tn := range []*store.Tenant{a, b} {
		if err := db.CreateTenant(ctx, tn, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetTenantImage(ctx, a.ID, "appfactory/tenant-contentapp:abc"); err != nil {
		t.Fatal(err)
	}
	gen, err := db.BumpGeneration(ctx, a.ID, "2.0", "Upgrade to 2.0")
	if err != nil || gen != 2 {
		t.Fatalf("bump: %d %v", gen, err)
	}
	got, _ := db.TenantByID(ctx, a.ID)
	if got.Version != "2.0" || got.Image != "" || got.Generation != 2 {
		t.Fatalf("after upgrade: %+v", got)
	}
	db.SetDesiredState(ctx, b.ID, domain.DesiredDeleted)
	list, _ := db.TenantsForReconcile(ctx)
	if len(list) != 2 {
		t.Fatalf("reconcile list %d, want 2 (deleted but not cleaned counts)", len(list))
	}
	db.SetTenantState(ctx, b.ID, domain.StateDeleted, "")
	list, _ = db.TenantsForReconcile(ctx)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("reconcile list after cleanup: %d", len(list))
	}
	if _, err := db.BumpGeneration(ctx, b.ID, "", "restart"); apperr.Code(err) != apperr.Conflict {
		t.Fatalf("bump of deleted: %v", err)
	}
	if err := db.SetDesiredState(ctx, b.ID, domain.DesiredRunning); apperr.Code(err) != apperr.Conflict {
		t.Fatalf("undelete: %v", err)
	}
	visible, _ := db.ListTenants(ctx, store.TenantFilter{VisibleTo: user})
	all, _ := db.ListTenants(ctx, store.TenantFilter{IncludeDeleted: true})
	if len(visible) != 1 || len(all) != 2 {
		t.Fatalf("list: visible %d all %d", len(visible), len(all))
	}
}

func TestClaimSubnetNeverTwice(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	user, app := seedOwnerApp(t, db)
	pool := []string{"10.0.0.0/28", "10.0.0.16/28", "10.0.0.32/28"}
	pick := func(used map[string]bool) (string, error) {
		for _, s := range pool {
			if !used[s] {
				return s, nil
			}
		}
		return "", errors.New("pool exhausted")
	}
	var got []string
	var ids []string
	for i := 0; i < 3; i++ {
		tn := newTenant(user, app, "t"+string(rune('a'+i)))
		db.CreateTenant(ctx, tn, 0)
		s, err := db.ClaimSubnet(ctx, tn.ID, pick)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := db.ClaimSubnet(ctx, tn.ID, pick)
		if again != s {
			t.Fatalf("second claim %s != %s", again, s)
		}
		got = append(got, s)
		ids = append(ids, tn.ID)
	}
	if strings.Join(got, ",") != strings.Join(pool, ",") {
		t.Fatalf("claims %v, want %v", got, pool)
	}
	// A cleaned-up tenant frees its subnet.
	db.SetDesiredState(ctx, ids[1], domain.DesiredDeleted)
	db.SetTenantState(ctx, ids[1], domain.StateDeleted, "")
	tn := newTenant(user, app, "td")
	db.CreateTenant(ctx, tn, 0)
	if s, err := db.ClaimSubnet(ctx, tn.ID, pick); err != nil || s != pool[1] {
		t.Fatalf("reuse: %s %v", s, err)
	}
}

func TestBuildLogKeepsTail(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	id, err := db.StartBuild(ctx, "t1", "appfactory/tenant-x:1", 1)
	if err != nil {
		t.Fatal(err)
	}
	chunk := strings.Repeat("x", 1000) + "\n"
	for i := 0; i < 80; i++ {
		if err := db.AppendBuildLog(ctx, id, chunk); err != nil {
			t.Fatal(err)
		}
	}
	db.AppendBuildLog(ctx, id, "Step 3/3 : failed\n")
	db.FinishBuild(ctx, id, store.BuildFailed)
	b, err := db.LastBuild(ctx, "t1")
	if err != nil || b == nil {
		t.Fatalf("last build: %v", err)
	}
	if len(b.Log) > 64<<10 || !strings.HasSuffix(b.Log, "Step 3/3 : failed\n") || b.Result != store.BuildFailed || b.EndedAt.IsZero() {
		t.Fatalf("build: len %d result %s", len(b.Log), b.Result)
	}
	if none, err := db.LastBuild(ctx, "other"); none != nil || err != nil {
		t.Fatalf("no build: %v %v", none, err)
	}
}
