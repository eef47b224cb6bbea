package orchestrator

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/docker/swarm"
	"appfactory/orchestrator/internal/enginetest"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/reconcile"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// factoryEnv is the whole orchestrator against the real engine: a database
// in a temporary directory, the embedded catalog, the sample platform's
// images, a reconciler of an instance id unique to the test (every object
// it makes also carries the test's labels and is removed at the end).
type factoryEnv struct {
	*enginetest.Env
	db       *store.DB
	cat      *catalog.Catalog
	routes   *route.Routes
	pool     *stack.SubnetPool
	instance string
	rt       engine
	svc      *Service
	user     *store.User
	r        *reconcile.Reconciler
	stop     func()
	// backups, when set (withBackups), are the tenants' backups; the
	// reconciler restores from them.
	backups *Backups
	// readyTimeout, when set, bounds readiness instead of 30 s.
	readyTimeout time.Duration
}

// platformImages are the sample platform's images the tests deploy.
var platformImages = []string{"appfactory/contentapp:1.0", "appfactory/contentapp:2.0"}

// engine is a runtime the tests drive: the Docker engine's or the swarm's.
type engine interface {
	runtime.Runtime
	runtime.Monitor
}

func newFactoryEnv(t *testing.T) *factoryEnv { return newFactoryEnvOn(t, false) }

// newFactoryEnvOn is newFactoryEnv on the swarm runtime when onSwarm is
// set, the test engine then a one-node swarm.
func newFactoryEnvOn(t *testing.T, onSwarm bool) *factoryEnv {
	t.Helper()
	e := &factoryEnv{Env: enginetest.New(t)}
	if onSwarm {
		e.Swarm(t)
	}
	ctx := context.Background()
	for _, img := range platformImages {
		if _, ok, err := e.D.ImageID(ctx, img); err != nil || !ok {
			t.Fatalf("image %s is not on this host (%v): build it with make images", img, err)
		}
	}
	var err error
	if e.db, err = store.Open(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if e.cat, err = catalog.Load(""); err != nil {
		t.Fatal(err)
	}
	e.routes = route.NewRoutes()
	// A /24 of a pool of the tests' own: 16 tenants; overlaps with
	// concurrent tests are retried on another subnet.
	e.pool, _ = stack.NewSubnetPool(fmt.Sprintf("10.214.%d.0/24", rand.IntN(256)))
	e.instance = "test-" + e.ID
	o := docker.Options{Instance: e.instance, Subnets: reconcile.Subnets{DB: e.db, Pool: e.pool}, HealthTimeout: 30 * time.Second}
	var err2 error
	if onSwarm {
		e.rt, err2 = swarm.New(ctx, e.D, swarm.Options{Docker: o})
	} else {
		e.rt, err2 = docker.NewRuntime(e.D, o)
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	e.user = &store.User{Email: e.ID + "@example.com", Name: "Tester " + e.ID, PasswordHash: "x", Role: store.RoleAdmin}
	if err := e.db.CreateUser(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	e.svc = &Service{
		DB: e.db, Catalog: e.cat, Routes: e.routes,
		Blueprints: e.blueprints(),
		PublicURL:  func(slug string) string { return "http://" + slug + ".localhost:8080/" },
	}
	e.start(t, nil)
	t.Cleanup(func() {
		e.stop()
		e.removeAll(t)
		e.db.Close()
	})
	return e
}

func (e *factoryEnv) blueprints() *CatalogBlueprints {
	return &CatalogBlueprints{Catalog: e.cat, DataDir: e.db.Path + ".d", SecretKey: []byte("test-" + e.ID),
		PublicURL: func(slug string) string { return "http://" + slug + ".localhost:8080/" }}
}

// newReconciler makes a reconciler of the test's instance.
func (e *factoryEnv) newReconciler(t *testing.T, failpoint func(string)) *reconcile.Reconciler {
	t.Helper()
	o := reconcile.ReconcilerOptions{
		DB: e.db, Runtime: e.rt, Blueprints: e.blueprints(), Routes: e.routes,
		Labels: e.Labels, Resync: 500 * time.Millisecond,
		OrphanGrace: 300 * time.Millisecond, ReadyTimeout: cmp.Or(e.readyTimeout, 30*time.Second), Failpoint: failpoint,
	}
	if e.backups != nil {
		o.Archives = e.backups
	}
	if d := e.dial(); d != nil {
		p := ready.DefaultProber()
		p.Dial = d
		o.Ready = p.Wait
	}
	r, err := reconcile.NewReconciler(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// start runs a reconciler (stopping the previous one) and points the
// service at it.
func (e *factoryEnv) start(t *testing.T, failpoint func(string)) {
	t.Helper()
	if e.stop != nil {
		e.stop()
	}
	e.r = e.newReconciler(t, failpoint)
	e.svc.Reconciler = e.r
	e.svc.Factory = e.r.Factory()
	if e.backups != nil {
		e.backups.Reconciler = e.r
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.r.Run(ctx)
	}()
	e.stop = func() { cancel(); <-done }
}

// removeAll removes the test's containers, networks and volumes, then the
// images its tenants were built into.
func (e *factoryEnv) removeAll(t *testing.T) {
	t.Helper()
	e.Sweep(t)
	tags, err := e.db.ImageTags(context.Background())
	if err != nil {
		t.Errorf("images to remove: %v", err)
	}
	for _, tag := range tags {
		if err := e.D.RemoveImage(context.Background(), tag); err != nil {
			t.Errorf("remove image %s: %v", tag, err)
		}
	}
}

// app stores a finished app; the model title carries the test id, so no
// two tests build the same assembly (each removes its own images).
func (e *factoryEnv) app(t *testing.T, name, version, env string, replicas int, components ...string) *store.App {
	t.Helper()
	a := &store.App{OwnerID: e.user.ID, Name: name, Status: store.AppReady, Platform: "contentapp", Version: version,
		Environment: env, Replicas: replicas}
	if components == nil {
		components = []string{}
	}
	a.SetComponents(components)
	a.SetModel(domain.Model{Title: name + " Docs " + e.ID, Color: "#225588", Doctypes: []domain.Doctype{
		{Name: "Contract", Fields: []domain.Field{{Name: "amount", Type: "number"}}},
	}})
	if err := e.db.CreateApp(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// deploy deploys an app and waits until its tenant runs.
func (e *factoryEnv) deploy(t *testing.T, a *store.App) *store.Tenant {
	t.Helper()
	tn, err := e.svc.DeployApp(context.Background(), a, e.user)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return e.waitState(t, tn.ID, domain.StateRunning, 60*time.Second)
}

// waitState polls the tenant until it reaches state; failing fast with the
// tenant's events when it fails instead.
func (e *factoryEnv) waitState(t *testing.T, id, state string, within time.Duration) *store.Tenant {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		tn, err := e.db.TenantByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if tn.State == state {
			return tn
		}
		if tn.State == domain.StateFailed && state != domain.StateFailed || time.Now().After(deadline) {
			e.fatalWithEvents(t, id, "want state "+state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fatalWithEvents fails the test showing the tenant's state and events.
func (e *factoryEnv) fatalWithEvents(t *testing.T, id, msg string) {
	t.Helper()
	tn, _ := e.db.TenantByID(context.Background(), id)
	evs, _ := e.db.ListEvents(context.Background(), id, 0, 0)
	var lines []string
	for _, ev := range evs {
		lines = append(lines, ev.Kind+": "+ev.Message)
	}
	t.Fatalf("%s: tenant %s is %s (%s); events:\n  %s", msg, tn.Slug, tn.State, tn.StateMessage, strings.Join(lines, "\n  "))
}

// objects lists a tenant's containers, networks and volumes by label.
func (e *factoryEnv) objects(t *testing.T, tenantID string) (cs []docker.Container, ns []docker.Network, vs []docker.Volume) {
	t.Helper()
	ctx := context.Background()
	only := map[string]string{docker.LabelTenant: tenantID}
	var err error
	if cs, err = e.D.ListContainers(ctx, only, true); err != nil {
		t.Fatal(err)
	}
	if ns, err = e.D.ListNetworks(ctx, only); err != nil {
		t.Fatal(err)
	}
	if vs, err = e.D.ListVolumes(ctx, only); err != nil {
		t.Fatal(err)
	}
	return cs, ns, vs
}

// get fetches a URL of a tenant container and returns status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dial is the runtime's dialer where the host has no route to the
// replicas (the swarm's overlays), nil otherwise.
func (e *factoryEnv) dial() ready.DialFunc {
	if d, ok := e.rt.(runtime.Dialer); ok {
		return d.DialContext
	}
	return nil
}

// client reaches replica addresses as the router does, following no
// redirect.
func (e *factoryEnv) client() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: ready.Bounded(e.dial(), 5*time.Second, 0), DisableKeepAlives: true}}
}

// get fetches a URL of a replica through client.
func (e *factoryEnv) get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := e.client().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getQuiet fetches a URL, returning 0 when it cannot connect.
func getQuiet(url string) (int, error) {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// webURL is the address of a tenant's first web replica, from the route table.
func (e *factoryEnv) webURL(t *testing.T, slug string) string {
	t.Helper()
	r, ok := e.routes.Get(slug)
	if !ok || len(r.Backends) == 0 {
		t.Fatalf("no route with backends for %s: %+v", slug, r)
	}
	return "http://" + r.Backends[0]
}
