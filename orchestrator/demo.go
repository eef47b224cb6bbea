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

// DemoDeployer deploys a finished app on behalf of a user (the Service).
type DemoDeployer interface {
	Deploy(ctx context.Context, app *store.App, by *store.User) (string, error)
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
// The account (when new), the app and the invitation are written in one
// transaction before the deploy, and taken back together if it fails: a
// failed demo leaves nothing behind.
func (d *Demos) Create(ctx context.Context, req DemoRequest) (*Demo, error) {
	tpl, err := d.DB.AppByID(ctx, req.TemplateID)
	if err != nil || !tpl.IsTemplate {
		return nil, apperr.FieldError(apperr.Unprocessable, "template", "Pick one of the templates.")
	}
	prospect, isNew, err := d.prospect(ctx, req)
	if err != nil {
		return nil, err
	}
	draft := store.DemoDraft{Prospect: prospect, NewProspect: isNew, Template: tpl, Name: demoName(tpl.Name, req.Company),
		InvitedBy: req.Seller.ID, InviteTTL: req.InviteTTL}
	if env, ok := d.Catalog.Environment(DemoEnvironment); ok {
		draft.Environment = env.ID
		if env.MaxReplicas > 0 {
			draft.Replicas = min(max(tpl.Replicas, 1), env.MaxReplicas)
		}
	}
	app, token, err := d.DB.CreateDemo(ctx, draft)
	if err != nil {
		return nil, err
	}
	tenantID, err := d.Deployer.Deploy(ctx, app, req.Seller)
	if err != nil {
		// Not the request's context: a cancelled request still takes back
		// what it wrote.
		if rerr := d.DB.RemoveDemo(context.WithoutCancel(ctx), app.ID, prospect.ID, isNew); rerr != nil {
			d.log().Warn("remove a demo after its deploy failed", slog.String("app", app.ID), slog.Any("err", rerr))
		}
		return nil, err
	}
	t, err := d.DB.TenantByID(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	d.log().Info("demo created", slog.String("tenant", t.ID), slog.String("prospect", prospect.ID),
		slog.Bool("new_account", isNew), slog.String("by", req.Seller.ID))
	return &Demo{Prospect: prospect, NewAccount: isNew, InviteToken: token, Tenant: t}, nil
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
