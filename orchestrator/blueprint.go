package orchestrator

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// CatalogBlueprints makes tenants from the catalog: the platform version's
// image and stack template, the components' environment and files, the
// uploaded bundles stored under DataDir.
type CatalogBlueprints struct {
	Catalog *catalog.Catalog
	// DataDir holds the uploaded bundles (components/<sha[:2]>/<sha>.<format>).
	DataDir string
	// PublicURL is the address of a tenant, like http://acme.localhost:8080.
	PublicURL func(slug string) string
	// SecretKey derives each tenant's ${SECRET}: the same for a tenant
	// across restarts and upgrades, different between tenants.
	SecretKey []byte
}

// platformVersion looks up a tenant's platform and version in the catalog.
func (b *CatalogBlueprints) platformVersion(t *store.Tenant) (*catalog.Platform, *catalog.Version, error) {
	p, ok := b.Catalog.Platform(t.Platform)
	if !ok {
		return nil, nil, apperr.New(apperr.Unprocessable, "The platform %q is no longer in the catalog.", t.Platform)
	}
	v, ok := p.Version(t.Version)
	if !ok {
		return nil, nil, apperr.New(apperr.Unprocessable, "Version %s of %s is no longer in the catalog.", t.Version, p.Name)
	}
	return p, v, nil
}

// BuildInput implements Blueprints.
func (b *CatalogBlueprints) BuildInput(_ context.Context, t *store.Tenant) (factory.BuildInput, error) {
	p, v, err := b.platformVersion(t)
	if err != nil {
		return factory.BuildInput{}, err
	}
	a, err := factory.ParseAssembly(t.Assembly)
	if err != nil {
		return factory.BuildInput{}, err
	}
	model, err := factory.AssemblyModel(t.Assembly)
	if err != nil {
		return factory.BuildInput{}, err
	}
	in := factory.BuildInput{AppID: t.AppID, Platform: p.ID, Version: v.Version, BaseImage: v.Image, Model: model}
	for _, id := range a.Components {
		c, ok := p.Component(id)
		if !ok {
			return factory.BuildInput{}, apperr.New(apperr.Unprocessable, "The component %q is no longer in the catalog.", id)
		}
		if !c.Supports(v.Version) {
			return factory.BuildInput{}, apperr.New(apperr.Unprocessable, "The component %s is not available on version %s.", c.Name, v.Version)
		}
		in.Components = append(in.Components, factory.ComponentInput{ID: c.ID, Env: c.Env, Files: c.Files})
	}
	for _, ref := range a.Custom {
		ci, err := b.customInput(ref)
		if err != nil {
			return factory.BuildInput{}, err
		}
		in.Custom = append(in.Custom, ci)
	}
	return in, nil
}

// customInput reads and checks an uploaded bundle again: the stored archive
// is unpacked into the component's files in memory.
func (b *CatalogBlueprints) customInput(ref domain.CustomRef) (factory.CustomInput, error) {
	if len(ref.SHA256) < 2 {
		return factory.CustomInput{}, fmt.Errorf("custom component %s: no content hash", ref.Name)
	}
	path := store.ComponentBlobPath(b.DataDir, ref.SHA256, ref.Format)
	data, err := os.ReadFile(path)
	if err != nil {
		return factory.CustomInput{}, apperr.New(apperr.Unprocessable, "The uploaded component %s is missing from the data directory; upload it again.", ref.Name)
	}
	bundle, err := catalog.ReadBundle(ref.Name+"."+ref.Format, data, catalog.DefaultBundleLimits())
	if err != nil {
		return factory.CustomInput{}, fmt.Errorf("custom component %s: %w", ref.Name, err)
	}
	ci := factory.CustomInput{Name: ref.Name}
	for _, f := range bundle.Files {
		ci.Files = append(ci.Files, factory.CustomFile{Path: f.Path, Mode: f.Mode, Data: f.Data})
	}
	return ci, nil
}

// Stack implements Blueprints: the version's template interpolated with the
// tenant's values and loaded with compose-go, then made the tenant's own.
func (b *CatalogBlueprints) Stack(ctx context.Context, t *store.Tenant, sp stack.StackParams) (*stack.TenantStack, error) {
	p, v, err := b.platformVersion(t)
	if err != nil {
		return nil, err
	}
	e, ok := b.Catalog.Environment(t.Environment)
	if !ok {
		return nil, apperr.New(apperr.Unprocessable, "The environment %q is no longer in the catalog.", t.Environment)
	}
	public := ""
	if b.PublicURL != nil {
		public = b.PublicURL(t.Slug)
	}
	vars := catalog.StackParams{
		Tenant: t.ID, Slug: t.Slug, Image: t.Image, Platform: p.ID, Version: v.Version, Env: e.ID,
		Replicas: t.Replicas, MemoryBytes: e.MemoryBytes, CPUs: e.CPUs, PidsLimit: e.PidsLimit,
		PublicURL: public, Secret: b.secret(t.ID),
	}.Vars()
	st, err := catalog.LoadStack(ctx, p.ID+" "+v.Version, p.StackFor(v.Version), vars)
	if err != nil {
		return nil, err
	}
	sp.Limits = stack.Limits{MemoryBytes: e.MemoryBytes, CPUs: e.CPUs, PidsLimit: e.PidsLimit}
	sp.RouteService, sp.RoutePort, sp.Readiness = st.Route.Service, st.Route.Port, st.Readiness
	if st.Backup != nil {
		sp.DumpService, sp.Dump = st.Backup.Service, st.Backup.Dump
	}
	return stack.NewTenantStack(st.Project, st.ServiceOrder(), sp)
}

// secret is the tenant's ${SECRET}: an HMAC of its id.
func (b *CatalogBlueprints) secret(tenantID string) string {
	m := hmac.New(sha256.New, b.SecretKey)
	m.Write([]byte(tenantID))
	return hex.EncodeToString(m.Sum(nil))[:32]
}
