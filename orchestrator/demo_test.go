package orchestrator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/factory"
	"appfactory/store"
)

// failingDeployer plans the deploy as the service does, with a tenant
// whose insert fails (its creator is no user): the last write of the
// demo's transaction.
type failingDeployer struct {
	*Service
	app *store.App
}

func (f *failingDeployer) PlanDeploy(ctx context.Context, app *store.App, by *store.User, pending ...store.ComponentCopy) (*store.Deployment, error) {
	f.app = app
	d, err := f.Service.PlanDeploy(ctx, app, by, pending...)
	if err != nil {
		return nil, err
	}
	d.Tenant.CreatedBy = "nobody"
	return d, nil
}

// refusingDeployer refuses every deploy before anything is written.
type refusingDeployer struct{ *Service }

func (refusingDeployer) PlanDeploy(context.Context, *store.App, *store.User, ...store.ComponentCopy) (*store.Deployment, error) {
	return nil, apperr.New(apperr.Unprocessable, "The demo environment is full.")
}

// newDemos is the demo workflow over the service's database and catalog,
// with a template app owned by a sales person, who asks for the demos.
func newDemos(t *testing.T, deployer func(*Service) DemoDeployer) (*Demos, *store.App, *store.User) {
	t.Helper()
	svc, _, owner := newServiceEnv(t)
	ctx := context.Background()
	tpl := storeApp(t, svc.DB, owner, "Contracts", "1.0", "trial", 1)
	if err := svc.DB.SetAppTemplate(ctx, tpl.ID, true); err != nil {
		t.Fatal(err)
	}
	tpl.IsTemplate = true
	seller := &store.User{Email: "seller@example.com", Name: "Seller", PasswordHash: "x", Role: store.RoleSales}
	if err := svc.DB.CreateUser(ctx, seller); err != nil {
		t.Fatal(err)
	}
	var dep DemoDeployer = svc
	if deployer != nil {
		dep = deployer(svc)
	}
	hash := func(context.Context, string) (string, error) { return "hashed", nil }
	return &Demos{DB: svc.DB, Catalog: svc.Catalog, Deployer: dep, HashPassword: hash}, tpl, seller
}

func TestDemoCreatesAccountAppInviteAndTenant(t *testing.T) {
	d, tpl, seller := newDemos(t, nil)
	ctx := context.Background()
	demo, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: "New.Lead@example.com", Company: "Initech", Seller: seller, InviteTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.DB.UserByEmail(ctx, "new.lead@example.com")
	if err != nil || u.Role != store.RoleProspect || u.Name != "New.Lead" || !demo.NewAccount {
		t.Fatalf("prospect %+v (%v), new %v", u, err, demo.NewAccount)
	}
	app, err := d.DB.AppByID(ctx, demo.Tenant.AppID)
	if err != nil || app.OwnerID != u.ID || app.Name != "Contracts Initech" || app.ParentID.String != tpl.ID {
		t.Fatalf("demo app %+v (%v)", app, err)
	}
	if _, ok := d.Catalog.Environment(DemoEnvironment); ok && app.Environment != DemoEnvironment {
		t.Errorf("demo app runs on %q, want %q", app.Environment, DemoEnvironment)
	}
	if pending, err := d.DB.InvitePending(ctx, u.ID); err != nil || !pending || demo.InviteToken == "" {
		t.Errorf("invitation pending %v (%v), token %q", pending, err, demo.InviteToken)
	}
	if demo.Tenant.OwnerID != u.ID || demo.Tenant.CreatedBy != seller.ID {
		t.Errorf("tenant owner %s by %s", demo.Tenant.OwnerID, demo.Tenant.CreatedBy)
	}
	tn, err := d.DB.TenantByID(ctx, demo.Tenant.ID)
	if err != nil || tn.State != domain.StatePending || tn.DesiredState != domain.DesiredRunning || tn.Slug != demo.Tenant.Slug {
		t.Fatalf("the demo's tenant %+v (%v): want a pending deployment", tn, err)
	}
	if evs, err := d.DB.ListEvents(ctx, tn.ID, 0, 10); err != nil || len(evs) != 1 {
		t.Errorf("the tenant's events %v (%v): want its creation", evs, err)
	}
	if w := d.Deployer.(*Service).Reconciler.(*recordingWaker); len(w.woken) != 1 || w.woken[0] != tn.ID {
		t.Errorf("woken %v, want the demo's tenant", w.woken)
	}
}

// TestDemoWhoseTenantFailsLeavesNothing makes the tenant's insert, the
// last write of the demo's transaction, fail: the account, the app and the
// invitation written before it in the transaction are gone too.
func TestDemoWhoseTenantFailsLeavesNothing(t *testing.T) {
	fd := &failingDeployer{}
	d, tpl, seller := newDemos(t, func(svc *Service) DemoDeployer { fd.Service = svc; return fd })
	ctx := context.Background()

	if _, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: "lead@example.com", Seller: seller, InviteTTL: time.Hour}); err == nil {
		t.Fatal("Create succeeded over a failing tenant insert")
	}
	if fd.app == nil {
		t.Fatal("the deploy was not asked for")
	}
	if u, err := d.DB.UserByEmail(ctx, "lead@example.com"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the prospect's account is left: %+v (%v)", u, err)
	}
	if a, err := d.DB.AppByID(ctx, fd.app.ID); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the demo app is left: %+v (%v)", a, err)
	}
	if pending, err := d.DB.InvitePending(ctx, fd.app.OwnerID); err != nil || pending {
		t.Errorf("an invitation is left: %v (%v)", pending, err)
	}

	// A prospect who already had an account keeps it; only the app goes.
	if _, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: seller.Email, Seller: seller}); err == nil {
		t.Fatal("Create succeeded over a failing tenant insert")
	}
	if _, err := d.DB.UserByEmail(ctx, seller.Email); err != nil {
		t.Errorf("an existing account went with the failed demo: %v", err)
	}
	if a, err := d.DB.AppByID(ctx, fd.app.ID); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the demo app is left: %+v (%v)", a, err)
	}
	if ts, err := d.DB.ListTenants(ctx, store.TenantFilter{IncludeDeleted: true}); err != nil || len(ts) != 0 {
		t.Errorf("tenants left: %d (%v)", len(ts), err)
	}
}

func TestDemoRefusedWritesNothing(t *testing.T) {
	d, tpl, seller := newDemos(t, func(svc *Service) DemoDeployer { return refusingDeployer{svc} })
	ctx := context.Background()
	_, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: "lead@example.com", Seller: seller, InviteTTL: time.Hour})
	if apperr.Code(err) != apperr.Unprocessable {
		t.Fatalf("Create: %v, want the deploy's refusal", err)
	}
	if u, err := d.DB.UserByEmail(ctx, "lead@example.com"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("the prospect's account is written: %+v (%v)", u, err)
	}
}

func TestDemoOfNoTemplate(t *testing.T) {
	d, tpl, seller := newDemos(t, nil)
	_, err := d.Create(context.Background(), DemoRequest{TemplateID: tpl.ID + "x", Email: "x@example.com", Seller: seller})
	var fe *apperr.Error
	if !errors.As(err, &fe) || apperr.Code(err) != apperr.Unprocessable {
		t.Fatalf("Create of an unknown template: %v", err)
	}
}

// uploaded stores a component row of owner (the archive itself is not
// needed to plan a deploy), returning it.
func uploaded(t *testing.T, db *store.DB, owner *store.User, name, sha string) *store.CustomComponent {
	t.Helper()
	c, _, err := db.CreateCustomComponent(context.Background(), &store.CustomComponent{OwnerID: owner.ID, SHA256: sha, Name: name,
		Version: "1.0.0", Filename: name + ".tar.gz", Format: "tar.gz", Size: 10, Files: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// templateWithComponent gives the demos' template an uploaded component
// of its owner.
func templateWithComponent(t *testing.T, d *Demos, tpl *store.App) *store.CustomComponent {
	t.Helper()
	owner, err := d.DB.UserByID(context.Background(), tpl.OwnerID)
	if err != nil {
		t.Fatal(err)
	}
	c := uploaded(t, d.DB, owner, "invoice-stamp", strings.Repeat("ab", 32))
	tpl.SetCustomComponents([]string{c.ID})
	if err := d.DB.UpdateApp(context.Background(), tpl); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDemoCopiesTheTemplatesUploadedComponents(t *testing.T) {
	d, tpl, seller := newDemos(t, nil)
	src := templateWithComponent(t, d, tpl)
	ctx := context.Background()
	demo, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: "lead@example.com", Company: "Initech", Seller: seller, InviteTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	app, err := d.DB.AppByID(ctx, demo.Tenant.AppID)
	if err != nil {
		t.Fatal(err)
	}
	ids := app.CustomComponents()
	if len(ids) != 1 || ids[0] == src.ID {
		t.Fatalf("demo app components %v, want a copy of %s", ids, src.ID)
	}
	cp, err := d.DB.CustomComponentOfOwner(ctx, ids[0], demo.Prospect.ID)
	if err != nil || cp.SHA256 != src.SHA256 || cp.Name != src.Name || cp.Format != src.Format || cp.Size != src.Size {
		t.Fatalf("the prospect's copy %+v (%v) of %+v", cp, err, src)
	}
	a, err := factory.ParseAssembly(demo.Tenant.Assembly)
	if err != nil || len(a.Custom) != 1 || a.Custom[0].ID != cp.ID || a.Custom[0].SHA256 != src.SHA256 {
		t.Fatalf("the tenant's assembly %+v (%v)", a.Custom, err)
	}
	if mine, _ := d.DB.CustomComponentsOfOwner(ctx, tpl.OwnerID); len(mine) != 1 || mine[0].ID != src.ID {
		t.Errorf("the template owner's components changed: %+v", mine)
	}

	// A second demo for the same prospect reuses their copy.
	again, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: "lead@example.com", Seller: seller})
	if err != nil {
		t.Fatal(err)
	}
	app2, _ := d.DB.AppByID(ctx, again.Tenant.AppID)
	if got := app2.CustomComponents(); len(got) != 1 || got[0] != cp.ID {
		t.Errorf("second demo components %v, want the prospect's %s", got, cp.ID)
	}
	if theirs, _ := d.DB.CustomComponentsOfOwner(ctx, demo.Prospect.ID); len(theirs) != 1 {
		t.Errorf("the prospect holds %d components, want 1", len(theirs))
	}
}

// A demo whose tenant insert fails leaves no copied component either.
func TestFailedDemoLeavesNoComponentCopy(t *testing.T) {
	fd := &failingDeployer{}
	d, tpl, seller := newDemos(t, func(svc *Service) DemoDeployer { fd.Service = svc; return fd })
	templateWithComponent(t, d, tpl)
	ctx := context.Background()
	if _, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: seller.Email, Seller: seller}); err == nil {
		t.Fatal("Create succeeded over a failing tenant insert")
	}
	if cs, err := d.DB.CustomComponentsOfOwner(ctx, seller.ID); err != nil || len(cs) != 0 {
		t.Fatalf("components left with the failed demo: %+v (%v)", cs, err)
	}
}
