package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/store"
)

// DemoEnvironment is where demos for prospects run (when the catalog has it).
const DemoEnvironment = "demo"

// DemoDeployer makes the deployment of a demo's app, which the demo's
// transaction writes, and starts it once written (the Service).
type DemoDeployer interface {
	PlanDeploy(ctx context.Context, app *store.App, by *store.User, pending ...store.ComponentCopy) (*store.Deployment, error)
	Deployed(t *store.Tenant, by *store.User)
}

// Demos makes a sales person's demos: a copy of a template for a prospect
// (whose account is made if need be), deployed on the demo environment.
type Demos struct {
	DB       *store.DB
	Catalog  *catalog.Catalog
	Deployer DemoDeployer
	// HashPassword hashes the random, never shown password of a new account.
	HashPassword func(ctx context.Context, password string) (string, error)
	Logger       *slog.Logger
}

// DemoRequest is a demo of a template for the prospect of an email.
type DemoRequest struct {
	TemplateID, Email, Name, Company string
	// Seller asks for the demo; the deploy is on their behalf.
	Seller *store.User
	// InviteTTL is how long a new prospect's invitation works.
	InviteTTL time.Duration
}

// Demo is what Create made.
type Demo struct {
	Prospect *store.User
	// NewAccount says the prospect's account was made for the demo, and
	// InviteToken is then their invitation to set a password.
	NewAccount  bool
	InviteToken string
	Tenant      *store.Tenant
}

// Create copies the template into an app of the prospect and deploys it.
// The account (when new), the app, the invitation and the tenant are
// written in one transaction: a failed demo leaves nothing behind. The
// tenant's containers come with the reconciler's next pass.
func (d *Demos) Create(ctx context.Context, req DemoRequest) (*Demo, error) {
	tpl, err := d.DB.AppByID(ctx, req.TemplateID)
	if err != nil || !tpl.IsTemplate {
		return nil, apperr.FieldError(apperr.Unprocessable, "template", "Pick one of the templates.")
	}
	prospect, isNew, err := d.prospect(ctx, req)
	if err != nil {
		return nil, err
	}
	if isNew {
		prospect.ID = store.NewID() // the app's owner before the row exists
	}
	app := store.TemplateCopy(tpl, prospect.ID, demoName(tpl.Name, req.Company))
	if env, ok := d.Catalog.Environment(DemoEnvironment); ok {
		app.Environment = env.ID
		if env.MaxReplicas > 0 {
			app.Replicas = min(max(tpl.Replicas, 1), env.MaxReplicas)
		}
	}
	// The template's uploaded components become the prospect's (the
	// same stored archives), written with the demo.
	ids, copies, err := d.DB.PlanComponentCopies(ctx, tpl.CustomComponents(), prospect.ID)
	if err != nil {
		return nil, err
	}
	app.SetCustomComponents(ids)
	dep, err := d.Deployer.PlanDeploy(ctx, app, req.Seller, copies...)
	if err != nil {
		return nil, err
	}
	token, err := d.DB.CreateDemo(ctx, store.DemoDraft{Prospect: prospect, NewProspect: isNew, App: app,
		InvitedBy: req.Seller.ID, InviteTTL: req.InviteTTL, Components: copies, Deployment: dep})
	if err != nil {
		return nil, err
	}
	d.Deployer.Deployed(dep.Tenant, req.Seller)
	d.log().Info("demo created", slog.String("tenant", dep.Tenant.ID), slog.String("prospect", prospect.ID),
		slog.Bool("new_account", isNew), slog.String("by", req.Seller.ID))
	return &Demo{Prospect: prospect, NewAccount: isNew, InviteToken: token, Tenant: dep.Tenant}, nil
}

// prospect finds the prospect by email, or prepares (unsaved) a prospect
// account whose password is random and never shown: nobody can sign in to
// it until the prospect sets a password through the invitation link.
func (d *Demos) prospect(ctx context.Context, req DemoRequest) (*store.User, bool, error) {
	u, err := d.DB.UserByEmail(ctx, req.Email)
	if err == nil {
		return u, false, nil
	}
	if apperr.Code(err) != apperr.NotFound {
		return nil, false, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, false, err
	}
	hash, err := d.HashPassword(ctx, base64.RawURLEncoding.EncodeToString(secret))
	if err != nil {
		return nil, false, fmt.Errorf("hash a prospect's password: %w", err)
	}
	name := req.Name
	if name == "" {
		name, _, _ = strings.Cut(req.Email, "@")
	}
	return &store.User{Email: req.Email, Name: name, Company: req.Company, PasswordHash: hash, Role: store.RoleProspect}, true, nil
}

func (d *Demos) log() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// demoName names a demo's app after its template and the prospect's company.
func demoName(template, company string) string {
	if company == "" {
		return template
	}
	return template + " " + company
}
