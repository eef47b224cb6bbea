package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"appfactory/catalog"
	"appfactory/handlers"
	"appfactory/orchestrator"
	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/monitor"
	"appfactory/store"
)

// monitoring is the watching side of serve: the metrics registry, the
// engine event monitor, the resource sampler and the capacity probe.
type monitoring struct {
	Registry *prometheus.Registry
	Metrics  *metrics.Metrics
	Monitor  *monitor.Monitor
	Sampler  *monitor.Sampler
	Capacity *monitor.CapacityProbe
}

// newMetrics makes the metrics on a registry of our own (never the global
// default), before the factory that reports to them.
func newMetrics(db *store.DB, logger *slog.Logger) (*prometheus.Registry, *metrics.Metrics, error) {
	reg := metrics.NewRegistry()
	m := metrics.NewMetrics(reg)
	if err := metrics.RegisterTenantStates(reg, db.TenantStateCounts, logger); err != nil {
		return nil, nil, err
	}
	return reg, m, nil
}

// newMonitoring makes the watchers of the factory's engine and instance.
func newMonitoring(db *store.DB, cat *catalog.Catalog, fac *factory, reg *prometheus.Registry, m *metrics.Metrics, logger *slog.Logger) *monitoring {
	var smallest int64
	for _, e := range cat.Environments {
		if e.MemoryBytes > 0 && (smallest == 0 || e.MemoryBytes < smallest) {
			smallest = e.MemoryBytes
		}
	}
	limits := func(env string) (int64, float64, bool) {
		e, ok := cat.Environment(env)
		if !ok {
			return 0, 0, false
		}
		return e.MemoryBytes, e.CPUs, true
	}
	return &monitoring{
		Registry: reg,
		Metrics:  m,
		Monitor:  &monitor.Monitor{Events: fac.Runtime, Recorder: db, Waker: fac.Reconciler, Metrics: m, Logger: logger},
		Sampler:  &monitor.Sampler{Runtime: fac.Runtime, Store: db, Logger: logger},
		Capacity: &monitor.CapacityProbe{Runtime: fac.Runtime, Tenants: db, Limits: limits, Smallest: smallest},
	}
}

// handlers is what the portal's monitoring pages need.
func (m *monitoring) handlers(db *store.DB, fac *factory, rs *routerSide) handlers.Monitoring {
	hm := handlers.Monitoring{
		Metrics:  m.Registry,
		Runtime:  fac.Runtime,
		Capacity: m.Capacity,
		Control:  &orchestrator.Control{DB: db, Service: fac.Service, Waker: fac.Reconciler},
		InUse:    rs.Activity.InUse,
		Extender: rs.Passivator,
	}
	if rs.Budget != nil {
		hm.Budget = rs.Budget
	}
	return hm
}

// run starts the monitor and the sampler in g.
func (m *monitoring) run(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return m.Monitor.Run(ctx) })
	g.Go(func() error { return m.Sampler.Run(ctx) })
}
