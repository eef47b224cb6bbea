package orchestrator

import (
	"context"
	"strings"
	"testing"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/internal/fakeruntime"
	"appfactory/orchestrator/route"
	"appfactory/store"
)

type recordingWaker struct{ woken []string }

func (w *recordingWaker) Wake(id string) { w.woken = append(w.woken, id) }

// newServiceEnv is the service over a real database, the embedded catalog
// and a fake engine that has the platform images.
func newServiceEnv(t *testing.T) (*Service, *recordingWaker, *store.User) {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cat, err := catalog.Load("")
	if err != nil {
		t.Fatal(err)
	}
	rt := fakeruntime.New()
	rt.Images["appfactory/contentapp:1.0"] = "sha256:one"
	rt.Images["appfactory/contentapp:2.0"] = "sha256:two"
	url := func(slug string) string { return "http://" + slug + ".example.test/" }
	w := &recordingWaker{}
	svc := &Service{DB: db, Catalog: cat, Reconciler: w, Routes: route.NewRoutes(), PublicURL: url, Factory: factory.NewFactory(rt),
		Blueprints: &CatalogBlueprints{Catalog: cat, DataDir: t.TempDir(), PublicURL: url, SecretKey: []byte("k")}}
	u := &store.User{Email: "o@example.com", Name: "Owner", PasswordHash: "x", Role: store.RoleProspect}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return svc, w, u
}

func storeApp(t *testing.T, db *store.DB, owner *store.User, name, version, env string, replicas int, comps ...string) *store.App {
	t.Helper()
	a := &store.App{OwnerID: owner.ID, Name: name, Status: store.AppReady, Platform: "contentapp", Version: version, Environment: env, Replicas: replicas}
	a.SetComponents(comps)
	a.SetModel(domain.Model{Title: name + " Docs", Doctypes: []domain.Doctype{{Name: "Contract"}}})
	if err := db.CreateApp(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestServiceDeploySlugsLimitsAndWake(t *testing.T) {
	svc, w, u := newServiceEnv(t)
	ctx := context.Background()
	a := storeApp(t, svc.DB, u, "Admin", "1.0", "trial", 1, "comments")
	var slugs []string
	for range 3 { // trial allows 3 per user
		tn, err := svc.DeployApp(ctx, a, u)
		if err != nil {
			t.Fatal(err)
		}
		slugs = append(slugs, tn.Slug)
		if tn.ExpiresAt.IsZero() || tn.Title != "Admin Docs" || tn.Replicas != 1 {
			t.Errorf("tenant %+v", tn)
		}
	}
	if strings.Join(slugs, ",") != "admin-app,admin-app-2,admin-app-3" {
		t.Errorf("slugs %v", slugs)
	}
	if len(w.woken) != 3 {
		t.Errorf("woken %v", w.woken)
	}
	if _, err := svc.DeployApp(ctx, a, u); apperr.Code(err) != apperr.Unprocessable || !strings.Contains(apperr.Message(err), "Delete one") {
		t.Errorf("fourth trial: %v", err)
	}
	tn, _ := svc.DB.TenantBySlug(ctx, "admin-app")
	if err := svc.Delete(ctx, tn, u); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeployApp(ctx, a, u); err != nil {
		t.Errorf("after a delete: %v", err)
	}
	big := storeApp(t, svc.DB, u, "Big", "1.0", "trial", 2)
	if _, err := svc.DeployApp(ctx, big, u); apperr.Code(err) != apperr.Unprocessable {
		t.Errorf("2 replicas on trial: %v", err)
	}
	draft := storeApp(t, svc.DB, u, "Draft", "1.0", "demo", 1)
	draft.Status = store.AppDraft
	if _, err := svc.DeployApp(ctx, draft, u); apperr.Code(err) != apperr.Unprocessable {
		t.Errorf("draft: %v", err)
	}
}

func TestServiceUpgradeChecks(t *testing.T) {
	svc, w, u := newServiceEnv(t)
	ctx := context.Background()
	tn, err := svc.DeployApp(ctx, storeApp(t, svc.DB, u, "Acme", "1.0", "demo", 1, "versioning"), u)
	if err != nil {
		t.Fatal(err)
	}
	if vs := svc.UpgradeVersions(tn); len(vs) != 1 || vs[0].Version != "2.0" {
		t.Errorf("upgrade versions %+v", vs)
	}
	for _, tc := range []struct {
		version, code string
	}{{"1.0", apperr.Conflict}, {"0.9", apperr.Unprocessable}, {"7.0", apperr.Unprocessable}} {
		if err := svc.Upgrade(ctx, tn, u, tc.version); apperr.Code(err) != tc.code {
			t.Errorf("upgrade to %s: %v, want %s", tc.version, err, tc.code)
		}
	}
	if err := svc.Upgrade(ctx, tn, u, "2.0"); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.DB.TenantByID(ctx, tn.ID)
	if got.Version != "2.0" || got.Generation != 2 || got.Image != "" || w.woken[len(w.woken)-1] != tn.ID {
		t.Errorf("after upgrade %+v", got)
	}
	// A component 0.9 lacks blocks a move there; search (2.0 only) blocks a move back.
	withSearch, _ := svc.DeployApp(ctx, storeApp(t, svc.DB, u, "Searchy", "2.0", "demo", 1, "search"), u)
	if vs := svc.UpgradeVersions(withSearch); len(vs) != 0 {
		t.Errorf("versions for search %+v", vs)
	}
	if err := svc.Upgrade(ctx, withSearch, u, "1.0"); apperr.Code(err) != apperr.Unprocessable {
		t.Errorf("moving search to 1.0: %v", err)
	}
}

func TestServicePreview(t *testing.T) {
	svc, _, u := newServiceEnv(t)
	a := storeApp(t, svc.DB, u, "Acme Corp", "1.0", "demo", 2, "comments")
	dockerfile, compose, err := svc.Preview(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM appfactory/contentapp:1.0", `CONTENTAPP_FEATURE_COMMENTS="1"`, "COPY rootfs/ /"} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("Dockerfile lacks %q:\n%s", want, dockerfile)
		}
	}
	for _, want := range []string{"name: af-acme-corp", "appfactory/tenant-contentapp:", "replicas: 2", "CONTENTAPP_STORE_URL"} {
		if !strings.Contains(compose, want) {
			t.Errorf("stack lacks %q:\n%s", want, compose)
		}
	}
}

// TestServiceDeployFinishesTheAppWithItsTenant: the wizard's Deploy saves
// the draft finished and writes its tenant in one transaction; when the
// tenant is refused (the trial's limit), the app stays a draft.
func TestServiceDeployFinishesTheAppWithItsTenant(t *testing.T) {
	svc, w, u := newServiceEnv(t)
	ctx := context.Background()
	draft := func(name string) *store.App {
		a := storeApp(t, svc.DB, u, name, "1.0", "trial", 1)
		a.Status, a.Step = store.AppDraft, 3
		if err := svc.DB.UpdateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		a.Step = 6
		return a
	}
	a := draft("Wizard")
	id, err := svc.Deploy(ctx, a, u)
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.DB.AppByID(ctx, a.ID)
	if err != nil || got.Status != store.AppReady || got.Step != 6 {
		t.Fatalf("app after Deploy: %+v (%v), want ready at step 6", got, err)
	}
	if tn, err := svc.DB.TenantByID(ctx, id); err != nil || tn.AppID != a.ID || tn.State != domain.StatePending {
		t.Fatalf("tenant %+v (%v)", tn, err)
	}
	if len(w.woken) != 1 || w.woken[0] != id {
		t.Errorf("woken %v", w.woken)
	}

	for range 2 { // trial allows 3 per user
		if _, err := svc.DeployApp(ctx, got, u); err != nil {
			t.Fatal(err)
		}
	}
	refused := draft("Refused")
	if _, err := svc.Deploy(ctx, refused, u); apperr.Code(err) != apperr.Unprocessable {
		t.Fatalf("fourth trial: %v", err)
	}
	if got, err := svc.DB.AppByID(ctx, refused.ID); err != nil || got.Status != store.AppDraft || got.Step != 3 {
		t.Errorf("app after a refused Deploy: %+v (%v), want the draft as it was", got, err)
	}
}
