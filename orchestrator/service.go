// Package orchestrator is appfactory's Docker side as the handlers see it:
// the Service that deploys, passivates, activates, upgrades and deletes
// tenants, the admins' bulk Control, and the catalog-backed blueprints. The
// pipeline itself lives in the packages below it (stack, factory, route,
// reconcile, router, sleep, monitor), which drive the engine through
// orchestrator/runtime's contract only; orchestrator/docker implements it
// and is the one package that imports the Docker client.
package orchestrator

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// waker is the part of the Reconciler the service needs.
type waker interface {
	Wake(tenantID string)
}

// Service is the orchestrator's face to the handlers: deploy an app,
// delete, restart and upgrade a tenant. Each operation writes the desired
// state to the database and wakes the reconciler, which does the work.
type Service struct {
	DB         *store.DB
	Catalog    *catalog.Catalog
	Blueprints *CatalogBlueprints
	Factory    *factory.Factory
	Reconciler waker
	Routes     *route.Routes
	// PublicURL is a tenant's address, like http://acme.localhost:8080/.
	PublicURL func(slug string) string
	// Backups, when set, takes a backup before every upgrade, so that an
	// upgrade whose version does not become ready is rolled back.
	Backups *Backups
	// UpgradeDeadline is how long an upgraded version has to become ready
	// before it is rolled back (default 5 minutes).
	UpgradeDeadline time.Duration
	Logger          *slog.Logger
}

// TenantURL is the address where a tenant is served.
func (s *Service) TenantURL(slug string) string {
	if s.PublicURL == nil {
		return ""
	}
	return s.PublicURL(slug)
}

// assemble snapshots what an app's image is made of. pending are
// components written with the tenant (a demo's copies), not stored yet.
func (s *Service) assemble(ctx context.Context, app *store.App, pending []store.ComponentCopy) (domain.Assembly, error) {
	a := domain.Assembly{Components: app.Components(), Model: app.Model()}
	ids := app.CustomComponents()
	if len(ids) > 0 {
		cs, err := s.DB.CustomComponentsByID(ctx, ids)
		if err != nil {
			return domain.Assembly{}, err
		}
		for _, p := range pending {
			if slices.Contains(ids, p.Component.ID) {
				cs = append(cs, p.Component)
			}
		}
		for _, c := range cs {
			if c.OwnerID != app.OwnerID {
				return domain.Assembly{}, apperr.New(apperr.Unprocessable, "The uploaded component %s is not the app owner's.", c.Name)
			}
			a.Custom = append(a.Custom, domain.CustomRef{ID: c.ID, Name: c.Name, Version: c.Version, SHA256: c.SHA256, Format: c.Format})
		}
		if len(a.Custom) != len(ids) {
			return domain.Assembly{}, apperr.New(apperr.Unprocessable, "An uploaded component of this app no longer exists.")
		}
	}
	return a, nil
}

// Deploy implements the wizard's Deployer: the app is finished (status
// ready, saved with its step) and a tenant of it created, in one
// transaction, and the reconciler woken to build and start it.
func (s *Service) Deploy(ctx context.Context, app *store.App, by *store.User) (string, error) {
	app.Status = store.AppReady
	d, err := s.PlanDeploy(ctx, app, by)
	if err != nil {
		return "", err
	}
	d.Finish = app
	if err := s.DB.CreateDeployment(ctx, d); err != nil {
		return "", err
	}
	s.Deployed(d.Tenant, by)
	return d.Tenant.ID, nil
}

// DeployApp creates a tenant of a finished app, with a unique slug derived
// from the app's name, and wakes the reconciler to build and start it.
// The environment's limit of tenants per owner is enforced.
func (s *Service) DeployApp(ctx context.Context, app *store.App, by *store.User) (*store.Tenant, error) {
	d, err := s.PlanDeploy(ctx, app, by)
	if err != nil {
		return nil, err
	}
	if err := s.DB.CreateDeployment(ctx, d); err != nil {
		return nil, err
	}
	s.Deployed(d.Tenant, by)
	return d.Tenant, nil
}

// PlanDeploy checks a finished app against the catalog and makes the
// deployment that a tenant of it is written with (store.CreateDeployment,
// or in a demo's transaction), saving nothing: the app need not be saved
// yet. pending are uploaded components the app refers to that are written
// with the tenant (a demo's copies of its template's). Once written,
// Deployed starts it.
func (s *Service) PlanDeploy(ctx context.Context, app *store.App, by *store.User, pending ...store.ComponentCopy) (*store.Deployment, error) {
	if app.IsDraft() {
		return nil, apperr.New(apperr.Unprocessable, "Finish the app in the wizard before deploying it.")
	}
	p, ok := s.Catalog.Platform(app.Platform)
	if !ok {
		return nil, apperr.New(apperr.Unprocessable, "Unknown platform %q.", app.Platform)
	}
	v, ok := p.Version(app.Version)
	if !ok {
		return nil, apperr.New(apperr.Unprocessable, "Unknown version %q of %s.", app.Version, p.Name)
	}
	e, ok := s.Catalog.Environment(app.Environment)
	if !ok {
		return nil, apperr.New(apperr.Unprocessable, "Unknown environment %q.", app.Environment)
	}
	replicas := max(app.Replicas, 1)
	if e.MaxReplicas > 0 && replicas > e.MaxReplicas {
		return nil, apperr.New(apperr.Unprocessable, "The %s environment runs at most %d of each service; this app asks for %d replicas.", e.Name, e.MaxReplicas, replicas)
	}
	a, err := s.assemble(ctx, app, pending)
	if err != nil {
		return nil, err
	}
	assembly, _ := json.Marshal(a)
	title := strings.TrimSpace(app.Model().Title)
	if title == "" {
		title = app.Name
	}
	t := &store.Tenant{
		AppID: app.ID, OwnerID: app.OwnerID, CreatedBy: by.ID, Title: title,
		Platform: p.ID, Version: v.Version, Environment: e.ID, Replicas: replicas,
		Assembly: string(assembly),
	}
	if e.TTL > 0 {
		t.ExpiresAt = store.TimeOf(s.DB.Now().Add(e.TTL))
	}
	base := stack.BaseSlug(app.Name)
	slug := func(i int) string { return stack.SlugCandidate(base, i) }
	return &store.Deployment{Tenant: t, MaxPerOwner: e.MaxTenantsPerUser, Slug: slug}, nil
}

// Deployed wakes the reconciler for a tenant a deployment wrote.
func (s *Service) Deployed(t *store.Tenant, by *store.User) {
	s.log().Info("tenant created", slog.String("tenant", t.ID), slog.String("slug", t.Slug), slog.String("app", t.AppID), slog.String("by", by.ID))
	s.Reconciler.Wake(t.ID)
}

// Delete asks for a tenant's removal: its host stops resolving at once, its
// containers, volumes and network go with the next pass.
func (s *Service) Delete(ctx context.Context, t *store.Tenant, by *store.User) error {
	if t.DesiredState == domain.DesiredDeleted {
		return nil
	}
	if err := s.DB.SetDesiredState(ctx, t.ID, domain.DesiredDeleted); err != nil {
		return err
	}
	s.DB.AddEvent(ctx, t.ID, domain.EventDesired, "Deletion requested by "+by.Name)
	if s.Routes != nil {
		s.Routes.Delete(t.Slug)
	}
	s.Reconciler.Wake(t.ID)
	return nil
}

// Restart replaces a tenant's containers with fresh ones (data stays on its
// volume); a passivated tenant is started.
func (s *Service) Restart(ctx context.Context, t *store.Tenant, by *store.User) error {
	if t.DesiredState == domain.DesiredDeleted {
		return apperr.New(apperr.Conflict, "This deployment is deleted.")
	}
	if t.DesiredState != domain.DesiredRunning {
		if err := s.DB.SetDesiredState(ctx, t.ID, domain.DesiredRunning); err != nil {
			return err
		}
	}
	if t.Paused {
		if err := s.DB.SetTenantPaused(ctx, t.ID, false); err != nil {
			return err
		}
	}
	if _, err := s.DB.BumpGeneration(ctx, t.ID, "", "Restart requested by "+by.Name); err != nil {
		return err
	}
	s.Reconciler.Wake(t.ID)
	return nil
}

// Upgrade moves a tenant to another version of its platform: the image is
// built again on the new version's image and the containers replaced; the
// data stays on the tenant's volume. With Backups, a pre-upgrade backup is
// taken first and the upgrade followed by the reconciler until the new
// version is ready, or rolled back.
func (s *Service) Upgrade(ctx context.Context, t *store.Tenant, by *store.User, version string) error {
	if t.DesiredState == domain.DesiredDeleted {
		return apperr.New(apperr.Conflict, "This deployment is deleted.")
	}
	p, ok := s.Catalog.Platform(t.Platform)
	if !ok {
		return apperr.New(apperr.Unprocessable, "The platform %q is no longer in the catalog.", t.Platform)
	}
	v, ok := p.Version(version)
	if !ok {
		return apperr.FieldError(apperr.Unprocessable, "version", "Unknown version %q of %s.", version, p.Name)
	}
	if v.Version == t.Version {
		return apperr.FieldError(apperr.Conflict, "version", "This deployment already runs version %s.", v.Version)
	}
	if v.Deprecated {
		return apperr.FieldError(apperr.Unprocessable, "version", "Version %s is deprecated: choose a supported one.", v.Version)
	}
	a, err := factory.ParseAssembly(t.Assembly)
	if err != nil {
		return err
	}
	var unsupported []string
	for _, id := range a.Components {
		if c, ok := p.Component(id); !ok || !c.Supports(v.Version) {
			unsupported = append(unsupported, id)
		}
	}
	if len(unsupported) > 0 {
		return apperr.FieldError(apperr.Unprocessable, "version", "Version %s does not support the component(s) %s.", v.Version, strings.Join(unsupported, ", "))
	}
	reason := fmt.Sprintf("Upgrade from %s to %s requested by %s", t.Version, v.Version, by.Name)
	if s.Backups == nil {
		if _, err := s.DB.BumpGeneration(ctx, t.ID, v.Version, reason); err != nil {
			return err
		}
		s.Reconciler.Wake(t.ID)
		return nil
	}
	u := &store.Upgrade{TenantID: t.ID, FromVersion: t.Version, ToVersion: v.Version,
		Deadline: store.TimeOf(s.DB.Now().Add(cmp.Or(s.UpgradeDeadline, 5*time.Minute)))}
	// A deployment that never got an image has no data to keep.
	if t.Image != "" {
		bk, err := s.Backups.Take(ctx, t, store.BackupPreUpgrade, by.Name)
		if err != nil {
			return apperr.New(apperr.Conflict, "The backup before the upgrade failed (%s), so the upgrade was not started.", apperr.Message(err))
		}
		u.BackupID = bk.ID
	}
	if _, err := s.DB.StartUpgrade(ctx, u, reason); err != nil {
		return err
	}
	s.Reconciler.Wake(t.ID)
	return nil
}

// UpgradeVersions lists the versions a tenant can move to.
func (s *Service) UpgradeVersions(t *store.Tenant) []catalog.Version {
	p, ok := s.Catalog.Platform(t.Platform)
	if !ok {
		return nil
	}
	a, _ := factory.ParseAssembly(t.Assembly)
	var out []catalog.Version
	for _, v := range p.Versions {
		if v.Version == t.Version || v.Deprecated {
			continue
		}
		ok := true
		for _, id := range a.Components {
			if c, found := p.Component(id); !found || !c.Supports(v.Version) {
				ok = false
			}
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

// Preview implements the wizard's Deployer: the Dockerfile the factory
// generates for the app and the Compose stack a tenant of it gets.
func (s *Service) Preview(ctx context.Context, app *store.App) (string, string, error) {
	a, err := s.assemble(ctx, app, nil)
	if err != nil {
		return "", "", err
	}
	assembly, _ := json.Marshal(a)
	slug := stack.BaseSlug(app.Name)
	t := &store.Tenant{ID: "preview", AppID: app.ID, Slug: slug, Platform: app.Platform, Version: app.Version,
		Environment: app.Environment, Replicas: max(app.Replicas, 1), Assembly: string(assembly), Generation: 1}
	in, err := s.Blueprints.BuildInput(ctx, t)
	if err != nil {
		return "", "", err
	}
	dockerfile, _, err := factory.MakeContext(in)
	if err != nil {
		return "", "", err
	}
	t.Image = "appfactory/tenant-" + app.Platform + ":<content hash>"
	// Without a factory (a portal under test) the tag stays a placeholder.
	if s.Factory != nil {
		if plan, err := s.Factory.Plan(ctx, in); err == nil {
			t.Image = plan.Tag
		}
	}
	compose, err := s.stackYAML(ctx, t)
	return dockerfile, compose, err
}

// stackYAML is a tenant's interpolated stack as Compose YAML.
func (s *Service) stackYAML(ctx context.Context, t *store.Tenant) (string, error) {
	p, v, err := s.Blueprints.platformVersion(t)
	if err != nil {
		return "", err
	}
	e, ok := s.Catalog.Environment(t.Environment)
	if !ok {
		return "", apperr.New(apperr.Unprocessable, "Unknown environment %q.", t.Environment)
	}
	vars := catalog.StackParams{
		Tenant: t.ID, Slug: t.Slug, Image: t.Image, Platform: p.ID, Version: v.Version, Env: e.ID,
		Replicas: t.Replicas, MemoryBytes: e.MemoryBytes, CPUs: e.CPUs, PidsLimit: e.PidsLimit,
		PublicURL: s.TenantURL(t.Slug), Secret: "(generated per deployment)",
	}.Vars()
	st, err := catalog.LoadStack(ctx, p.ID+" "+v.Version, p.StackFor(v.Version), vars)
	if err != nil {
		return "", apperr.New(apperr.Unprocessable, "%v", err)
	}
	b, err := st.Project.MarshalYAML()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
