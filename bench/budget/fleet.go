package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"appfactory/bench/internal/benchclean"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/orchestrator"
	"appfactory/orchestrator/budget"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/reconcile"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/router"
	"appfactory/orchestrator/sleep"
	"appfactory/orchestrator/stack"
	"appfactory/store"
	"appfactory/web"
)

// fleet is many tenants of the sample platform on the real engine, with
// the reconciler, router, passivator and memory budget wired as serve
// wires them, the router on a loopback listener.
type fleet struct {
	id      string
	dir     string
	db      *store.DB
	docker  *docker.Docker
	routes  *route.Routes
	rec     *reconcile.Reconciler
	svc     *orchestrator.Service
	budget  *budget.Budget
	cat     *catalog.Catalog
	tenants []*store.Tenant
	srv     *http.Server
	base    string
	stop    func()
}

func newFleet(ctx context.Context, logger *slog.Logger, budgetBytes int64, minIdle time.Duration) (*fleet, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	f := &fleet{id: hex.EncodeToString(b)}
	labels := map[string]string{"appfactory.test": "1", benchclean.Label: f.id}
	var err error
	if f.dir, err = os.MkdirTemp("", "appfactory-bench-budget-"); err != nil {
		return nil, err
	}
	if f.db, err = store.Open(ctx, f.dir); err != nil {
		return f, err
	}
	if f.cat, err = catalog.Load(""); err != nil {
		return f, err
	}
	if f.docker, err = docker.New(ctx); err != nil {
		return f, fmt.Errorf("docker engine: %w", err)
	}
	// A /22 of a pool of the bench's own: 64 tenants.
	n, _ := rand.Int(rand.Reader, big.NewInt(64))
	pool, err := stack.NewSubnetPool(fmt.Sprintf("10.217.%d.0/22", n.Int64()*4))
	if err != nil {
		return f, err
	}
	f.routes = route.NewRoutes()
	publicURL := func(slug string) string { return "http://" + slug + ".localhost/" }
	bp := &orchestrator.CatalogBlueprints{Catalog: f.cat, DataDir: filepath.Join(f.dir, "data"), PublicURL: publicURL, SecretKey: []byte("bench-" + f.id)}
	rt, err := docker.NewRuntime(f.docker, docker.Options{Instance: "bench-" + f.id, Subnets: reconcile.Subnets{DB: f.db, Pool: pool}})
	if err != nil {
		return f, err
	}
	f.rec, err = reconcile.NewReconciler(reconcile.ReconcilerOptions{
		DB: f.db, Runtime: rt, Blueprints: bp, Routes: f.routes, Labels: labels, Resync: time.Minute, Logger: logger,
	})
	if err != nil {
		return f, err
	}
	f.svc = &orchestrator.Service{DB: f.db, Catalog: f.cat, Blueprints: bp, Factory: f.rec.Factory(), Reconciler: f.rec,
		Routes: f.routes, PublicURL: publicURL, Logger: logger}
	activity := route.NewActivity(nil, logger)
	// The passivator's own idle timeout is too long to act during the bench:
	// only the budget puts tenants to sleep.
	pas := sleep.NewPassivator(sleep.PassivatorConfig{
		Policy: func(string) (time.Duration, time.Duration) { return time.Hour, 0 }, Logger: logger,
	}, f.routes, activity, f.rec, f.db)
	f.budget = budget.New(budget.Config{Bytes: budgetBytes, Size: f.rec.MemoryOf, Evictor: pas, MinIdle: minIdle, Logger: logger}, activity)
	f.budget.Watch(f.routes)
	f.rec.UseBudget(f.budget)
	rtr := router.NewRouter(router.RouterConfig{
		Slug:   func(h string) (string, bool) { return web.TenantSlug(h, "localhost") },
		Pages:  router.Pages{Error: web.WriteTenantError, Starting: web.WriteStartingPage},
		Budget: f.budget, Logger: logger,
	}, f.routes, f.rec, activity)
	rctx, cancel := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	for _, run := range []func(context.Context) error{f.rec.Run, rtr.Run, f.budget.Run} {
		loops.Add(1)
		go func() {
			defer loops.Done()
			_ = run(rctx)
		}()
	}
	f.stop = func() { cancel(); loops.Wait() }
	ws := web.New(web.Options{Domain: "localhost", Logger: logger})
	ws.SetTenantRouter(rtr)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return f, err
	}
	f.base = "http://" + ln.Addr().String()
	f.srv = &http.Server{Handler: ws.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

// deployAll deploys n tenants of one assembly (one image build), four at
// a time, and waits until each runs; the budget evicts the idle ones to
// let the later deploys in.
func (f *fleet) deployAll(ctx context.Context, n int) error {
	p := f.cat.Platforms[0]
	for i := range n {
		// An owner per tenant: an environment bounds the tenants of one.
		u := &store.User{Email: fmt.Sprintf("bench-%s-%02d@example.com", f.id, i), Name: "Bench", PasswordHash: "x", Role: store.RoleProspect}
		if err := f.db.CreateUser(ctx, u); err != nil {
			return err
		}
		a := &store.App{OwnerID: u.ID, Name: fmt.Sprintf("Fleet %02d", i), Status: store.AppReady, Platform: p.ID,
			Version: p.Versions[0].Version, Environment: "trial", Replicas: 1}
		a.SetComponents([]string{})
		a.SetModel(domain.Model{Title: "Fleet Docs " + f.id, Color: "#225588", Doctypes: []domain.Doctype{
			{Name: "Note", Fields: []domain.Field{{Name: "body", Type: "text"}}},
		}})
		if err := f.db.CreateApp(ctx, a); err != nil {
			return err
		}
		t, err := f.svc.DeployApp(ctx, a, u)
		if err != nil {
			return err
		}
		f.tenants = append(f.tenants, t)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for _, t := range f.tenants {
		for {
			cur, err := f.db.TenantByID(ctx, t.ID)
			if err != nil {
				return err
			}
			// Running, or already evicted to let a later deploy in.
			if cur.State == domain.StateRunning || cur.State == domain.StatePassivated {
				break
			}
			if cur.State == domain.StateFailed || time.Now().After(deadline) {
				return fmt.Errorf("tenant %s is %s: %s", t.Slug, cur.State, cur.StateMessage)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// passivateAll stops every tenant, eight at a time.
func (f *fleet) passivateAll(ctx context.Context) error {
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(f.tenants))
	var wg sync.WaitGroup
	for _, t := range f.tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- f.rec.Passivate(ctx, t.ID, "bench")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// close removes the tenants, every object carrying the bench's labels and
// the image built for them, whatever happened before.
func (f *fleet) close(logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if f.srv != nil {
		f.srv.Close()
	}
	if f.stop != nil {
		f.stop()
	}
	benchclean.Remove(ctx, f.docker, f.db, f.dir, f.id, logger)
}
