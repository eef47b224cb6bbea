package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"appfactory/bench/internal/benchclean"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/orchestrator"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/reconcile"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/router"
	"appfactory/orchestrator/stack"
	"appfactory/store"
	"appfactory/web"
)

// fixture is one tenant of the sample platform deployed by the real
// reconciler on the real engine, with the router in front of it on a
// loopback listener, as `appfactory serve` wires them.
type fixture struct {
	id     string
	dir    string
	db     *store.DB
	docker *docker.Docker
	routes *route.Routes
	rec    *reconcile.Reconciler
	svc    *orchestrator.Service
	user   *store.User
	tenant *store.Tenant
	act    *countingActivator
	router *router.Router
	// stopServer ends the server and waits for it.
	stopServer func()
	// base is the router's address, like http://127.0.0.1:PORT.
	base string
	host string
	// webPort is the routed service's port.
	webPort string
	labels  map[string]string
	stop    func()
}

// countingActivator counts the activations that reach the reconciler.
type countingActivator struct {
	inner interface {
		Activate(ctx context.Context, tenantID string) error
	}
	calls atomic.Int64
}

func (c *countingActivator) Activate(ctx context.Context, id string) error {
	c.calls.Add(1)
	return c.inner.Activate(ctx, id)
}

func newFixture(ctx context.Context, logger *slog.Logger) (*fixture, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	f := &fixture{id: hex.EncodeToString(b)}
	f.labels = map[string]string{"appfactory.test": "1", benchclean.Label: f.id}
	var err error
	if f.dir, err = os.MkdirTemp("", "appfactory-bench-"); err != nil {
		return nil, err
	}
	if f.db, err = store.Open(ctx, f.dir); err != nil {
		return f, err
	}
	cat, err := catalog.Load("")
	if err != nil {
		return f, err
	}
	if f.docker, err = docker.New(ctx); err != nil {
		return f, fmt.Errorf("docker engine: %w", err)
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(256))
	pool, err := stack.NewSubnetPool(fmt.Sprintf("10.216.%d.0/24", n.Int64()))
	if err != nil {
		return f, err
	}
	f.routes = route.NewRoutes()
	publicURL := func(slug string) string { return "http://" + slug + ".localhost/" }
	bp := &orchestrator.CatalogBlueprints{Catalog: cat, DataDir: filepath.Join(f.dir, "data"), PublicURL: publicURL, SecretKey: []byte("bench-" + f.id)}
	// A long resync: the floor measurement starts and stops containers
	// itself, and a pass in the middle would disturb it.
	rt, err := docker.NewRuntime(f.docker, docker.Options{Instance: "bench-" + f.id, Subnets: reconcile.Subnets{DB: f.db, Pool: pool}})
	if err != nil {
		return f, err
	}
	f.rec, err = reconcile.NewReconciler(reconcile.ReconcilerOptions{
		DB: f.db, Runtime: rt, Blueprints: bp, Routes: f.routes,
		Labels: f.labels, Resync: time.Hour, Logger: logger,
	})
	if err != nil {
		return f, err
	}
	f.svc = &orchestrator.Service{DB: f.db, Catalog: cat, Blueprints: bp, Factory: f.rec.Factory(), Reconciler: f.rec,
		Routes: f.routes, PublicURL: publicURL, Logger: logger}
	f.act = &countingActivator{inner: f.rec}
	m := metrics.NewMetrics(metrics.NewRegistry())
	f.router = router.NewRouter(router.RouterConfig{
		Slug:     func(h string) (string, bool) { return web.TenantSlug(h, "localhost") },
		Pages:    router.Pages{Error: web.WriteTenantError, Starting: web.WriteStartingPage},
		Answered: m.ProxyRequest,
		Logger:   logger,
	}, f.routes, f.act, route.NewActivity(nil, logger))
	// The reconciler and the router run until stop, as serve runs them.
	rctx, cancel := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	for _, run := range []func(context.Context) error{f.rec.Run, f.router.Run} {
		loops.Add(1)
		go func() {
			defer loops.Done()
			_ = run(rctx)
		}()
	}
	f.stop = func() { cancel(); loops.Wait() }
	// The portal's server with its host dispatch and the count of answers
	// on tenant hosts, as serve runs them.
	ws := web.New(web.Options{Domain: "localhost", Logger: logger})
	ws.SetTenantRouter(m.CountResponses(f.router))
	ws.SetTenantFast(f.router.ServeHead)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return f, err
	}
	f.base = "http://" + ln.Addr().String()
	sctx, stopServe := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = ws.ListenAndServe(sctx, ln, time.Second); close(served) }()
	f.stopServer = func() { stopServe(); <-served }
	return f, f.deploy(ctx, cat)
}

func (f *fixture) deploy(ctx context.Context, cat *catalog.Catalog) error {
	f.user = &store.User{Email: "bench-" + f.id + "@example.com", Name: "Bench", PasswordHash: "x", Role: store.RoleAdmin}
	if err := f.db.CreateUser(ctx, f.user); err != nil {
		return err
	}
	p := cat.Platforms[0]
	a := &store.App{OwnerID: f.user.ID, Name: "Bench", Status: store.AppReady, Platform: p.ID,
		Version: p.Versions[0].Version, Environment: "trial", Replicas: 1}
	a.SetComponents([]string{})
	a.SetModel(domain.Model{Title: "Bench Docs " + f.id, Color: "#225588", Doctypes: []domain.Doctype{
		{Name: "Note", Fields: []domain.Field{{Name: "body", Type: "text"}}},
	}})
	if err := f.db.CreateApp(ctx, a); err != nil {
		return err
	}
	t, err := f.svc.DeployApp(ctx, a, f.user)
	if err != nil {
		return err
	}
	f.host = t.Slug + ".localhost"
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if f.tenant, err = f.db.TenantByID(ctx, t.ID); err != nil {
			return err
		}
		if f.tenant.State == domain.StateRunning {
			return nil
		}
		if f.tenant.State == domain.StateFailed || time.Now().After(deadline) {
			return fmt.Errorf("tenant %s is %s: %s", t.Slug, f.tenant.State, f.tenant.StateMessage)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// containers returns the tenant's containers in start order: the store
// first (web depends on it), then the web replicas.
func (f *fixture) containers(ctx context.Context) ([]docker.Container, error) {
	cs, err := f.docker.ListContainers(ctx, map[string]string{docker.LabelTenant: f.tenant.ID}, true)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cs, func(i, j int) bool {
		return cs[i].Labels[docker.LabelService] == "store" && cs[j].Labels[docker.LabelService] != "store"
	})
	return cs, nil
}

// webCPU is a clock of the CPU time the routed web replica has used: its
// cgroup's counter when the bench can read it (a read costs microseconds),
// else the engine's one-shot stats (most of a second per read).
func (f *fixture) webCPU(ctx context.Context) (func() time.Duration, error) {
	cs, err := f.containers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if !c.Running || c.Labels[docker.LabelService] == "store" {
			continue
		}
		if raw, err := f.docker.InspectRaw(ctx, c.ID); err == nil {
			var doc struct{ State struct{ Pid int } }
			if json.Unmarshal(raw, &doc) == nil && doc.State.Pid > 0 {
				if clock, ok := cgroupCPU(doc.State.Pid); ok {
					return clock, nil
				}
			}
		}
		id := c.ID
		return func() time.Duration {
			s, err := f.docker.StatsOneShot(ctx, id)
			if err != nil {
				return 0
			}
			return time.Duration(s.CPUTotalNs)
		}, nil
	}
	return nil, fmt.Errorf("no running web replica of %s", f.tenant.Slug)
}

// webBackend is the address of the running web replica on the tenant network.
func (f *fixture) webBackend() (string, error) {
	r, ok := f.routes.Get(f.tenant.Slug)
	if !ok || len(r.Backends) == 0 {
		return "", fmt.Errorf("no backend routed for %s", f.tenant.Slug)
	}
	return r.Backends[0], nil
}

// close removes the tenant, every object carrying the bench's labels and
// the image built for it, whatever happened before.
func (f *fixture) close(logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if f.stopServer != nil {
		f.stopServer()
	}
	if f.tenant != nil && f.svc != nil {
		if err := f.svc.Delete(ctx, f.tenant, f.user); err == nil {
			for i := 0; i < 600; i++ {
				if _, ok := f.routes.Get(f.tenant.Slug); !ok {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	if f.stop != nil {
		f.stop()
	}
	benchclean.Remove(ctx, f.docker, f.db, f.dir, f.id, logger)
}
