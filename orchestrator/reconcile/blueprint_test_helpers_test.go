package reconcile

import (
	"context"
	"encoding/json"
	"sort"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// testStackYAML is a two-service stack like the sample platform's: a store
// owning the volume and a web service depending on its health.
const testStackYAML = `
services:
  store:
    image: ${APP_IMAGE}
    command: ["store"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "/server", "health"]
      interval: 1s
  web:
    image: ${APP_IMAGE}
    command: ["web"]
    environment:
      STORE_URL: http://store:8081
      TENANT: ${TENANT}
    depends_on:
      store:
        condition: service_healthy
volumes:
  data: {}
`

// testBlueprints builds every tenant from one base image and one template.
type testBlueprints struct {
	base     string
	template string
	limits   stack.Limits
	port     int
	// env is added to every service's template variables.
	env map[string]string
	// dumpService and dump are the platform's dump hook, if any.
	dumpService string
	dump        []string
}

func (b *testBlueprints) BuildInput(_ context.Context, t *store.Tenant) (factory.BuildInput, error) {
	return factory.BuildInput{
		AppID:     t.AppID,
		Platform:  t.Platform,
		Version:   t.Version,
		BaseImage: b.base,
		Model:     json.RawMessage(t.Assembly),
	}, nil
}

func (b *testBlueprints) Stack(ctx context.Context, t *store.Tenant, p stack.StackParams) (*stack.TenantStack, error) {
	vars := map[string]string{"APP_IMAGE": t.Image, "TENANT": t.ID, "SLUG": t.Slug}
	for k, v := range b.env {
		vars[k] = v
	}
	project, err := loadTestProject(ctx, b.template, "af-"+t.Slug, vars)
	if err != nil {
		return nil, err
	}
	p.Limits = b.limits
	p.RouteService, p.RoutePort, p.Readiness = "web", b.port, "/healthz"
	p.DumpService, p.Dump = b.dumpService, b.dump
	return stack.NewTenantStack(project, nil, p)
}

func loadTestProject(ctx context.Context, yaml, name string, vars map[string]string) (*types.Project, error) {
	return loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  "/",
		ConfigFiles: []types.ConfigFile{{Filename: "stack.yaml", Content: []byte(yaml)}},
		Environment: vars,
	}, func(o *loader.Options) {
		o.SetProjectName(name, true)
		o.ResolvePaths = false
		o.SkipConsistencyCheck = false
	})
}

// seedTenant creates a user, an app and a tenant of it.
func seedTenant(t *testing.T, db *store.DB, slug string, replicas int) *store.Tenant {
	t.Helper()
	return seedTenantOf(t, db, slug, replicas, `{"title":"`+slug+`"}`)
}

// seedTenantOf is seedTenant with the tenant's assembly given.
func seedTenantOf(t *testing.T, db *store.DB, slug string, replicas int, assembly string) *store.Tenant {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Email: store.NewID() + "@example.com", Name: "Owner", PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	app := &store.App{OwnerID: u.ID, Name: "App"}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{AppID: app.ID, OwnerID: u.ID, CreatedBy: u.ID, Slug: slug, Title: "Acme " + slug,
		Platform: "testapp", Version: "1.0", Environment: "trial", Replicas: replicas,
		Assembly: assembly}
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return tn
}

// sortedStrings returns a sorted copy of s.
func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
