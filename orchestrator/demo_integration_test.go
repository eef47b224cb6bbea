package orchestrator

import (
	"context"
	"strings"
	"testing"
	"time"

	"appfactory/store"
)

// TestDemoOfTemplateWithUploadedComponentRuns deploys, on the engine, a
// demo of a template that holds an uploaded component: the prospect's
// copy of the component is built into the demo's image and served.
func TestDemoOfTemplateWithUploadedComponentRuns(t *testing.T) {
	e := newFactoryEnv(t)
	ctx := context.Background()
	tpl := e.app(t, "Stamped", "1.0", "demo", 1)
	tpl.SetCustomComponents([]string{e.bundle(t, "invoice-stamp")})
	if err := e.db.UpdateApp(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetAppTemplate(ctx, tpl.ID, true); err != nil {
		t.Fatal(err)
	}
	seller := &store.User{Email: "seller-" + e.ID + "@example.com", Name: "Seller", PasswordHash: "x", Role: store.RoleSales}
	if err := e.db.CreateUser(ctx, seller); err != nil {
		t.Fatal(err)
	}
	// A webhook of the deployed event: the reconciler's first "running"
	// queues it.
	hook := &store.Webhook{URL: "http://127.0.0.1:9/", Secret: "s", Enabled: true, CreatedBy: seller.ID}
	hook.SetEvents([]string{store.EventDeployed})
	if err := e.db.CreateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	d := &Demos{DB: e.db, Catalog: e.cat, Deployer: e.svc,
		HashPassword: func(context.Context, string) (string, error) { return "hashed", nil }}
	demo, err := d.Create(ctx, DemoRequest{TemplateID: tpl.ID, Email: "lead-" + e.ID + "@example.com", Company: "Initech", Seller: seller, InviteTTL: time.Hour})
	if err != nil {
		t.Fatalf("demo of a template with an uploaded component: %v", err)
	}
	tn := e.waitState(t, demo.Tenant.ID, "running", 60*time.Second)
	status, body := get(t, e.webURL(t, tn.Slug)+"/")
	if status != 200 || !strings.Contains(body, "invoice-stamp") || !strings.Contains(body, "Stamped Docs "+e.ID) {
		t.Errorf("the demo's page (%d) lacks its uploaded component:\n%s", status, body)
	}
	if ds, err := e.db.WebhookDeliveries(ctx, hook.ID, 10); err != nil || len(ds) != 1 || ds[0].Event != store.EventDeployed ||
		!strings.Contains(ds[0].Body, `"slug":"`+tn.Slug+`"`) || !strings.Contains(ds[0].Body, `"email":"lead-`+e.ID+`@example.com"`) {
		t.Errorf("deployed deliveries %+v (%v)", ds, err)
	}
	if cs, _ := e.db.CustomComponentsOfOwner(ctx, demo.Prospect.ID); len(cs) != 1 || cs[0].Name != "invoice-stamp" {
		t.Errorf("the prospect's components %+v", cs)
	}
}
