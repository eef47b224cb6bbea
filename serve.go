package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"appfactory/catalog"
	"appfactory/handlers"
	"appfactory/orchestrator/docker/swarm"
	"appfactory/orchestrator/stack"
	"appfactory/store"
	"appfactory/web"
)

// serveConfig is the configuration of `appfactory serve`.
type serveConfig struct {
	Addr     string
	DataDir  string
	Domain   string
	Catalog  string
	LogLevel string
	TLS      bool
	Grace    time.Duration
	// Runtime is what tenants run on: docker (containers) or swarm
	// (services of the swarm this engine manages).
	Runtime string
	// SwarmEncrypted encrypts the swarm tenants' overlay networks.
	SwarmEncrypted bool
	// SwarmPools places each environment on the nodes of its pool label.
	SwarmPools bool
	// SwarmNetnsDir is where the engine keeps its network namespaces.
	SwarmNetnsDir string
	// SubnetPool is where tenant networks take their /28 from.
	SubnetPool string
	// WallOffHost rejects connections from the pool to the host (iptables).
	WallOffHost bool
	// UpgradeDeadline is how long an upgraded version has to become ready.
	UpgradeDeadline time.Duration
	// Router configures the tenant router and the passivator.
	Router routerConfig
	// Budget is the host's memory budget (serve_budget.go).
	Budget budgetConfig
	// Mail configures the SMTP relay and email confirmation.
	Mail mailConfig
	// Webhooks configures the deliveries of webhooks.
	Webhooks webhookConfig
}

// serveFlags defines the flags of `appfactory serve` over cfg.
func serveFlags(cfg *serveConfig, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", ":8080", "listen address of the portal and the tenant router")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the database, uploaded components and build cache")
	fs.StringVar(&cfg.Domain, "domain", "localhost", "portal host name; tenants are served at <slug>.<domain>")
	fs.StringVar(&cfg.Catalog, "catalog", "", "catalog YAML file of platforms and environments (default: the embedded catalog)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&cfg.TLS, "tls", false, "the portal is served over HTTPS by a front proxy (Secure cookies, HSTS)")
	fs.DurationVar(&cfg.Grace, "shutdown-grace", 15*time.Second, "how long in-flight requests may run on shutdown")
	fs.StringVar(&cfg.Runtime, "runtime", "docker", "what tenants run on: docker (containers of this engine) or swarm (services of the swarm this engine manages)")
	fs.BoolVar(&cfg.SwarmEncrypted, "swarm-encrypted", false, "with --runtime swarm: encrypt the traffic of the tenants' overlay networks between nodes (IPsec)")
	fs.BoolVar(&cfg.SwarmPools, "swarm-pools", false, "with --runtime swarm: run each environment's replicas only on nodes labelled appfactory.pool=<environment>")
	fs.StringVar(&cfg.SwarmNetnsDir, "swarm-netns-dir", swarm.DefaultNetnsDir, "with --runtime swarm: where the engine keeps its network namespaces (the netns directory of dockerd's --exec-root); the router dials tasks from there")
	fs.StringVar(&cfg.SubnetPool, "subnet-pool", stack.DefaultSubnetPool, "IPv4 pool tenant networks take a /28 each from")
	fs.BoolVar(&cfg.WallOffHost, "wall-off-host", true, "reject connections from tenant containers (the subnet pool) to the host, with iptables rules that stay up while tenants run; needs root or CAP_NET_ADMIN")
	fs.DurationVar(&cfg.UpgradeDeadline, "upgrade-deadline", 5*time.Minute, "how long an upgraded tenant's new version has to become ready before it is rolled back to the previous version and the pre-upgrade backup's data")
	cfg.Router.flags(fs)
	cfg.Budget.flags(fs)
	cfg.Mail.flags(fs)
	cfg.Webhooks.flags(fs)
	return fs
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg serveConfig
	if err := parseWithEnv(serveFlags(&cfg, stderr), args); err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(logger)

	cat, err := catalog.Load(cfg.Catalog)
	if err != nil {
		return err
	}

	db, err := store.Open(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("close database", slog.Any("err", err))
		}
		logger.Info("database closed")
	}()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	reg, metrics, err := newMetrics(db, logger)
	if err != nil {
		ln.Close()
		return err
	}
	fac, err := newFactory(ctx, cfg, db, cat, ln.Addr(), metrics, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer fac.Runtime.Close()
	if err := cfg.Budget.resolve(ctx, fac.Runtime, logger); err != nil {
		ln.Close()
		return err
	}
	mon := newMonitoring(db, cat, fac, reg, metrics, logger)

	srv := web.New(web.Options{Addr: cfg.Addr, Domain: cfg.Domain, TLS: cfg.TLS, Logger: logger})
	rs := newRouterSide(cfg, db, cat, fac, srv, metrics, logger)
	if err := registerBudgetMetrics(reg, rs.Budget); err != nil {
		ln.Close()
		return err
	}
	ms, err := newMailSide(ctx, cfg, db, ln.Addr(), fac.Service.TenantURL, logger)
	if err != nil {
		ln.Close()
		return err
	}
	h := &handlers.Handlers{DB: db, Server: srv, Logger: logger, Catalog: cat, DataDir: cfg.DataDir,
		Deployer: fac.Service, Orchestrator: fac.Service, Backups: fac.Backups, Monitoring: mon.handlers(db, fac, rs), Mail: ms.handlers(),
		Warmer: rs.Router, Sleep: rs.Passivator}
	// Every loop, and the portal's background starts and stops, end with
	// gctx and are awaited by g.
	g, gctx := errgroup.WithContext(ctx)
	rs.Power = &handlers.Power{H: h, Tenants: fac.Reconciler, Trials: rs.Passivator, Catalog: cat, Background: gctx}
	hooks, dispatcher, err := newWebhooks(cfg.Webhooks, cfg.SubnetPool, db, logger)
	if err != nil {
		ln.Close()
		return err
	}
	ms.reportNotices(hooks, logger)
	// Everything is built: the routes go in last, and change nothing.
	if err := h.Register(); err != nil {
		ln.Close()
		return err
	}
	rs.Power.Register(srv.Echo())
	(&handlers.Webhooks{H: h, Service: hooks}).Register(srv.Echo())
	abs, _ := filepath.Abs(cfg.DataDir)
	logger.Info("appfactory serving", slog.String("portal", portalURL(cfg.Domain, ln.Addr())), slog.String("data_dir", abs))
	admins, err := db.CountUsersWithRole(ctx, store.RoleAdmin)
	if err != nil {
		logger.Warn("count admins", slog.Any("err", err))
		admins = -1
	}
	startBanner(stderr, portalURL(cfg.Domain, ln.Addr()), cfg.DataDir, admins)

	g.Go(func() error { return srv.ListenAndServe(gctx, ln, cfg.Grace) })
	g.Go(func() error { return fac.Reconciler.Run(gctx) })
	g.Go(func() error { return dispatcher.Run(gctx) })
	g.Go(func() error { return fac.Backups.RunSchedule(gctx, time.Minute) })
	mon.run(gctx, g)
	rs.run(gctx, g)
	ms.run(gctx, g)
	err = g.Wait()
	logger.Info("appfactory stopped")
	return err
}

// portalURL is the address a person opens: the domain with the listener's port.
func portalURL(domain string, addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return fmt.Sprintf("http://%s:%s/", domain, port)
}

// startBanner tells whoever started the portal where to open it and, while
// no admin exists, the command (runnable as printed) that makes the first.
func startBanner(w io.Writer, url, dataDir string, admins int) {
	fmt.Fprintf(w, "\nappfactory is up at %s\n", url)
	if admins == 0 {
		fmt.Fprintf(w, "No admin exists yet. Create the first one with:\n  %s admin create --data-dir %s --email you@example.com --password '<a long password>'\n",
			shellQuote(os.Args[0]), shellQuote(dataDir))
	}
	fmt.Fprintln(w)
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@=,", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
