package main

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"time"

	"appfactory/catalog"
	"appfactory/handlers"
	"appfactory/orchestrator/budget"
	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/router"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/sleep"
	"appfactory/store"
	"appfactory/web"
)

// routerConfig is the configuration of the tenant router and the passivator.
type routerConfig struct {
	IdleTimeout       time.Duration
	PauseAfter        optDuration
	ExpiredGrace      time.Duration
	ActivationTimeout time.Duration
	SessionCookie     string
	BotAgents         string
}

func (c *routerConfig) flags(fs *flag.FlagSet) {
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 0, "stop tenants idle this long, in every environment that sleeps (default: each environment's own)")
	fs.Var(&c.PauseAfter, "pause-after", "pause tenants idle this long before stopping them, in every environment that sleeps; 0 turns pausing off (default: each environment's own)")
	fs.DurationVar(&c.ExpiredGrace, "expired-grace", 7*24*time.Hour, "how long an expired trial is kept, stopped, before it is removed")
	fs.DurationVar(&c.ActivationTimeout, "activation-timeout", 60*time.Second, "how long a request waits for a sleeping tenant to start")
	fs.StringVar(&c.SessionCookie, "session-cookie", handlers.SessionCookie, "name of the portal's session cookie, never forwarded to tenants")
	fs.StringVar(&c.BotAgents, "bot-agents", "", "comma-separated User-Agent pieces of crawlers and monitors, added to the built-in list, that never wake a sleeping tenant nor count as its activity")
}

// optDuration is a duration flag that may be left unset.
type optDuration struct {
	d   time.Duration
	set bool
}

func (o *optDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	o.d, o.set = d, true
	return nil
}

// value is the duration, or -1 when unset.
func (o optDuration) value() time.Duration {
	if !o.set {
		return -1
	}
	return o.d
}

// routerSide is the tenant side of serve: the router on the portal's
// listener, activity tracking and the passivator.
type routerSide struct {
	Router     *router.Router
	Activity   *route.Activity
	Passivator *sleep.Passivator
	// Power runs the portal's starts and stops in the background.
	Power *handlers.Power
	// Budget is the host's memory budget (nil: off).
	Budget *budget.Budget
}

// newRouterSide wires the router and the passivator over the factory's
// route table and reconciler, and installs the router for tenant hosts;
// serve adds the portal's sleep controls (Power) once the handlers exist.
func newRouterSide(cfg serveConfig, db *store.DB, cat *catalog.Catalog, fac *factory, srv *web.Server, metrics *metrics.Metrics, logger *slog.Logger) *routerSide {
	activity := route.NewActivity(db, logger)
	bud, bindBudget := newBudget(cfg.Budget, fac, activity, logger) // serve_budget.go
	rcfg := router.RouterConfig{
		Slug:              func(host string) (string, bool) { return web.TenantSlug(host, cfg.Domain) },
		StripCookies:      []string{cfg.Router.SessionCookie},
		TLS:               cfg.TLS,
		ActivationTimeout: cfg.Router.ActivationTimeout,
		BotAgents:         strings.Split(cfg.Router.BotAgents, ","),
		Pages:             router.Pages{Error: web.WriteTenantError, Starting: web.WriteStartingPage},
		Static:            web.TenantStatic(),
		Answered:          metrics.ProxyRequest,
		Activations:       metrics.ObservingActivations(db),
		Events:            db,
		Logger:            logger.With(slog.String("component", "router")),
	}
	if bud != nil {
		rcfg.Budget = bud
	}
	if d, ok := fac.Runtime.(runtime.Dialer); ok {
		rcfg.Dial = d.DialContext
	}
	rt := router.NewRouter(rcfg, fac.Routes, fac.Reconciler, activity)
	srv.SetTenantRouter(metrics.CountResponses(rt))
	srv.SetTenantFast(rt.ServeHead)

	pas := sleep.NewPassivator(sleep.PassivatorConfig{
		Policy: func(env string) (time.Duration, time.Duration) {
			if e, ok := cat.Environment(env); ok {
				return e.IdleTimeout, e.PauseAfter
			}
			return 0, 0
		},
		IdleOverride:  cfg.Router.IdleTimeout,
		PauseOverride: cfg.Router.PauseAfter.value(),
		ExpiredGrace:  cfg.Router.ExpiredGrace,
		Warm:          func(tenantID, reason string) { rt.Warm(tenantID, reason) },
		Logger:        logger.With(slog.String("component", "passivator")),
	}, fac.Routes, activity, fac.Reconciler, db)
	bindBudget(pas)

	return &routerSide{Router: rt, Activity: activity, Passivator: pas, Budget: bud}
}

// run runs the router (health checks, activations), the activity flush
// and the passivator until ctx ends; the router's activations and the
// starts and stops asked for from the portal end with ctx (their
// Background) and are awaited.
func (r *routerSide) run(ctx context.Context, g interface{ Go(func() error) }) {
	g.Go(func() error { return r.Router.Run(ctx) })
	g.Go(func() error { return r.Activity.Run(ctx, 5*time.Second) })
	g.Go(func() error { return r.Passivator.Run(ctx) })
	if r.Budget != nil {
		g.Go(func() error { return r.Budget.Run(ctx) })
	}
	g.Go(func() error {
		<-ctx.Done()
		r.Power.Wait()
		return nil
	})
}
