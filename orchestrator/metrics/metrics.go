// Package metrics holds the orchestrator's Prometheus collectors: builds,
// reconcile passes, activations, proxied requests, container events and the
// tenants by state. The reconciler, the router and the monitor all count
// into it, so it is a leaf none of them owns.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"appfactory/domain"
)

// Metrics are the orchestrator's Prometheus collectors. Every method is
// safe on a nil *Metrics, so code paths and tests without metrics need no
// checks. No label ever holds a tenant's slug or id: label values come from
// small fixed sets.
type Metrics struct {
	activations       prometheus.Counter
	activationSeconds prometheus.Histogram
	builds            *prometheus.CounterVec
	proxyRequests     *prometheus.CounterVec
	// proxyCodes caches the counter of each status code once used: every
	// answer on a tenant host is counted, and a label lookup hashes.
	proxyCodes       [600]atomic.Pointer[prometheus.Counter]
	reconcileSeconds prometheus.Histogram
	containerEvents  *prometheus.CounterVec
}

// NewRegistry returns a registry of our own (never the global default)
// holding the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// NewMetrics creates the orchestrator's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		activations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "appfactory_activations_total",
			Help: "Passivated or paused tenants started again by a request.",
		}),
		activationSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "appfactory_activation_seconds",
			Help:    "Time from the first waiting request to a ready tenant.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appfactory_builds_total",
			Help: "Image builds by result (success, failure, cached, canceled, other).",
		}, []string{"result"}),
		proxyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appfactory_proxy_requests_total",
			Help: "Requests served on tenant hosts, by HTTP status code.",
		}, []string{"code"}),
		reconcileSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "appfactory_reconcile_seconds",
			Help:    "Duration of one reconciliation of one tenant.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}),
		containerEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appfactory_container_events_total",
			Help: "Engine events about tenant containers, by action.",
		}, []string{"action"}),
	}
	reg.MustRegister(m.activations, m.activationSeconds, m.builds, m.proxyRequests, m.reconcileSeconds, m.containerEvents)
	// Every build result is present from the start, at zero, so that rates
	// over them are defined before the first build.
	for _, r := range []string{"success", "failure", "cached", "canceled", "other"} {
		m.builds.WithLabelValues(r)
	}
	// Likewise the codes the router itself answers with, so that the family
	// is in the first scrape, before any tenant was visited.
	for _, c := range []string{"200", "404", "502", "503", "504"} {
		m.proxyRequests.WithLabelValues(c)
	}
	return m
}

// ObserveActivation counts one activation and records how long it took.
func (m *Metrics) ObserveActivation(d time.Duration) {
	if m == nil {
		return
	}
	m.activations.Inc()
	m.activationSeconds.Observe(d.Seconds())
}

// BuildDone counts a finished build by its result.
func (m *Metrics) BuildDone(result string) {
	if m == nil {
		return
	}
	m.builds.WithLabelValues(buildResult(result)).Inc()
}

// buildResult maps what builders call their outcomes onto a fixed set.
func buildResult(r string) string {
	switch strings.ToLower(r) {
	case "success", "succeeded", "ok", "done":
		return "success"
	case "failure", "failed", "error":
		return "failure"
	case "cached", "reused":
		return "cached"
	case "canceled", "cancelled":
		return "canceled"
	}
	return "other"
}

// ProxyRequest counts a request proxied (or refused) on a tenant host.
func (m *Metrics) ProxyRequest(code int) {
	if m == nil {
		return
	}
	if code < 100 || code > 599 {
		m.proxyRequests.WithLabelValues("other").Inc()
		return
	}
	c := m.proxyCodes[code].Load()
	if c == nil {
		cnt := m.proxyRequests.WithLabelValues(strconv.Itoa(code))
		c = &cnt
		m.proxyCodes[code].Store(c)
	}
	(*c).Inc()
}

// ObserveReconcile records the duration of one tenant's reconciliation.
func (m *Metrics) ObserveReconcile(d time.Duration) {
	if m == nil {
		return
	}
	m.reconcileSeconds.Observe(d.Seconds())
}

// ContainerEvent counts an engine event the monitor recorded.
func (m *Metrics) ContainerEvent(action string) {
	if m == nil {
		return
	}
	m.containerEvents.WithLabelValues(action).Inc()
}

// tenantCollector counts tenants by state at scrape time.
type tenantCollector struct {
	desc   *prometheus.Desc
	count  func(context.Context) (map[string]int, error)
	logger *slog.Logger
}

// RegisterTenantStates registers appfactory_tenants{state}, a gauge that
// calls count at every scrape.
func RegisterTenantStates(reg prometheus.Registerer, count func(context.Context) (map[string]int, error), logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	return reg.Register(&tenantCollector{
		desc:   prometheus.NewDesc("appfactory_tenants", "Tenants by actual state.", []string{"state"}, nil),
		count:  count,
		logger: logger,
	})
}

// Describe implements prometheus.Collector.
func (c *tenantCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *tenantCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		c.logger.Warn("count tenants for metrics", slog.Any("err", err))
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	// Every state is reported, so that a state without tenants shows as
	// zero rather than disappearing.
	seen := map[string]bool{}
	for _, s := range domain.TenantStates() {
		seen[s] = true
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
	for s, n := range counts {
		if !seen[s] {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), s)
		}
	}
}

// CountResponses wraps the tenant router so that every answer on a tenant
// host is counted by status code. The wrapper unwraps for
// http.ResponseController, so flushing and WebSocket upgrades still reach
// the server's writer.
func (m *Metrics) CountResponses(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		m.ProxyRequest(code)
	})
}

// statusWriter remembers the first status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

// WriteHeader keeps the final status (a 1xx may come first).
func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 || s.code < 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write counts an implicit 200.
func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap is for http.ResponseController.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ActivationRecorder keeps the duration of each activation for the charts
// (the router's recorder, wrapped by ObservingActivations).
type ActivationRecorder interface {
	RecordActivation(ctx context.Context, tenantID string, at time.Time, took time.Duration, by string) error
}

// ObservingActivations records activations in next and observes their
// duration, for router.RouterConfig.Activations.
func (m *Metrics) ObservingActivations(next ActivationRecorder) ActivationRecorder {
	return &observedActivations{m: m, next: next}
}

type observedActivations struct {
	m    *Metrics
	next ActivationRecorder
}

// RecordActivation observes the duration, then records it.
func (o *observedActivations) RecordActivation(ctx context.Context, tenantID string, at time.Time, took time.Duration, by string) error {
	o.m.ObserveActivation(took)
	if o.next == nil {
		return nil
	}
	return o.next.RecordActivation(ctx, tenantID, at, took, by)
}
