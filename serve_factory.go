package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"appfactory/catalog"
	"appfactory/orchestrator"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/docker/swarm"
	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/reconcile"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// engine is the runtime serve runs tenants on: the Docker engine's
// containers or a swarm's services (--runtime).
type engine interface {
	runtime.Runtime
	runtime.Monitor
	Close() error
}

// factory is the orchestrator side of serve: the runtime, the route
// table, the reconciler and the service the handlers call.
type factory struct {
	Runtime    engine
	Routes     *route.Routes
	Reconciler *reconcile.Reconciler
	Service    *orchestrator.Service
	Backups    *orchestrator.Backups
	InstanceID string
}

// newFactory connects to the Docker engine (failing clearly when none
// answers) and wires the orchestrator for this data directory.
func newFactory(ctx context.Context, cfg serveConfig, db *store.DB, cat *catalog.Catalog, addr net.Addr, metrics *metrics.Metrics, logger *slog.Logger) (*factory, error) {
	pool, err := stack.NewSubnetPool(cfg.SubnetPool)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := docker.New(pctx)
	if err != nil {
		return nil, fmt.Errorf("no Docker engine answers (%w): start dockerd, or point DOCKER_HOST at one", err)
	}
	instance, err := db.InstanceID(ctx)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("instance id: %w", err)
	}
	rt, err := newEngine(ctx, cfg, d, docker.Options{Instance: instance, Subnets: reconcile.Subnets{DB: db, Pool: pool}})
	if err != nil {
		d.Close()
		return nil, err
	}
	key, err := stackSecretKey(ctx, db)
	if err != nil {
		d.Close()
		return nil, err
	}
	publicURL := tenantURLFunc(cfg, addr)
	routes := route.NewRoutes()
	dataDir, _ := filepath.Abs(cfg.DataDir)
	bp := &orchestrator.CatalogBlueprints{Catalog: cat, DataDir: dataDir, PublicURL: publicURL, SecretKey: key}
	backups := &orchestrator.Backups{DB: db, Dir: filepath.Join(dataDir, "backups"), Logger: logger}
	ropts := reconcile.ReconcilerOptions{
		DB: db, Runtime: rt, Blueprints: bp, Routes: routes, Archives: backups, Metrics: metrics, Logger: logger,
	}
	if d, ok := rt.(runtime.Dialer); ok {
		p := ready.DefaultProber()
		p.Dial = d.DialContext
		ropts.Ready = p.Wait
	}
	r, err := reconcile.NewReconciler(ropts)
	if err != nil {
		d.Close()
		return nil, err
	}
	// Before the reconciler runs, so no tenant starts with the host open.
	if _, err := installWall(ctx, cfg.WallOffHost, pool, logger); err != nil {
		d.Close()
		return nil, err
	}
	svc := &orchestrator.Service{
		DB: db, Catalog: cat, Blueprints: bp, Factory: r.Factory(), Reconciler: r, Routes: routes,
		PublicURL: publicURL, Backups: backups, UpgradeDeadline: cfg.UpgradeDeadline, Logger: logger,
	}
	backups.Reconciler, backups.Service = r, svc
	logger.Info("docker engine", slog.String("api", d.APIVersion()), slog.String("runtime", cfg.Runtime), slog.String("instance", instance), slog.String("subnet_pool", pool.String()))
	return &factory{Runtime: rt, Routes: routes, Reconciler: r, Service: svc, Backups: backups, InstanceID: instance}, nil
}

// newEngine is the runtime --runtime names over the engine d.
func newEngine(ctx context.Context, cfg serveConfig, d *docker.Docker, o docker.Options) (engine, error) {
	switch cfg.Runtime {
	case "docker":
		return docker.NewRuntime(d, o)
	case "swarm":
		rt, err := swarm.New(ctx, d, swarm.Options{Docker: o, Encrypted: cfg.SwarmEncrypted, Pools: cfg.SwarmPools, NetnsDir: cfg.SwarmNetnsDir})
		if errors.Is(err, swarm.ErrNotManager) {
			return nil, fmt.Errorf("--runtime swarm: %w, or join this engine to a swarm as a manager", err)
		}
		return rt, err
	}
	return nil, fmt.Errorf("--runtime %q: want docker or swarm", cfg.Runtime)
}

// tenantURLFunc gives a tenant's address: http://<slug>.<domain>:<port>/,
// without the port when it is the scheme's own.
func tenantURLFunc(cfg serveConfig, addr net.Addr) func(slug string) string {
	scheme, port := "http", ""
	if _, p, err := net.SplitHostPort(addr.String()); err == nil && p != "80" {
		port = ":" + p
	}
	if cfg.TLS {
		// Behind a TLS front proxy the listener's port is not the public one.
		scheme, port = "https", ""
	}
	return func(slug string) string {
		return scheme + "://" + slug + "." + cfg.Domain + port + "/"
	}
}

// stackSecretKey is the key each tenant's ${SECRET} is derived from, made
// once per data directory.
func stackSecretKey(ctx context.Context, db *store.DB) ([]byte, error) {
	v, err := db.Meta(ctx, "stack_secret_key")
	if err != nil {
		return nil, fmt.Errorf("read stack secret key: %w", err)
	}
	if v == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		v = hex.EncodeToString(b)
		if err := db.SetMeta(ctx, "stack_secret_key", v); err != nil {
			return nil, fmt.Errorf("write stack secret key: %w", err)
		}
	}
	return hex.DecodeString(v)
}
