package router

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/ready"
)

// healthProbes bounds the readiness probes the checker has in flight at once.
const healthProbes = 8

// healthCheck is one backend of one pool to probe in a round.
type healthCheck struct {
	pool *pool
	i    int
	err  error // nil: the readiness path answered below 500
}

// checkHealth probes the readiness path of every backend of the running
// routes every HealthInterval, until ctx ends. A backend that
// accepts connections but fails its readiness HealthFailures times in a
// row is taken out through the pool's markDown, whose re-probe puts it back
// once it answers again: one mechanism for refused dials and failed
// readiness alike.
func (rt *Router) checkHealth(ctx context.Context) {
	tr := &http.Transport{
		Proxy:               nil, // container addresses are never proxied
		DialContext:         ready.Bounded(rt.cfg.Dial, rt.cfg.HealthTimeout, 0),
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     3 * rt.cfg.HealthInterval,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport: tr,
		// A redirect is an answer: the server is up.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tick := time.NewTicker(rt.cfg.HealthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rt.healthRound(ctx, hc)
	}
}

// healthRound probes the backends of every running route once, then takes
// out those that failed often enough.
func (rt *Router) healthRound(ctx context.Context, hc *http.Client) {
	var checks []*healthCheck
	for _, rte := range rt.routes.All() {
		// Passivated, paused and starting routes have no replica to
		// probe, or one that is being stopped.
		if rte.State != domain.StateRunning || len(rte.Backends) == 0 {
			continue
		}
		p := rt.proxy.pools.get(rte)
		for i := range p.addrs {
			// A backend already out is re-probed by markDown.
			if !p.down[i].Load() {
				checks = append(checks, &healthCheck{pool: p, i: i})
			}
		}
	}
	sem := make(chan struct{}, healthProbes)
	var wg sync.WaitGroup
	for _, c := range checks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.err = rt.probeReadiness(ctx, hc, c.pool, c.i)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	rt.judge(checks)
}

// probeReadiness sends one readiness request to a backend.
func (rt *Router) probeReadiness(ctx context.Context, hc *http.Client, p *pool, i int) error {
	ctx, cancel := context.WithTimeout(ctx, rt.cfg.HealthTimeout)
	defer cancel()
	status, err := ready.ProbeOnce(ctx, hc, "http://"+p.addrs[i]+readinessPath(p.readiness))
	if err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	if status >= 500 {
		return fmt.Errorf("readiness: status %d", status)
	}
	return nil
}

// judge counts each backend's consecutive failures and takes out those over
// the limit, pool by pool.
func (rt *Router) judge(checks []*healthCheck) {
	healthy := make(map[*pool]int)
	for _, c := range checks {
		if c.err == nil {
			c.pool.fails[c.i].Store(0)
			// One taken out by a failed dial since its probe no longer counts.
			if !c.pool.down[c.i].Load() {
				healthy[c.pool]++
			}
		}
	}
	for _, c := range checks {
		if c.err == nil {
			continue
		}
		n := c.pool.fails[c.i].Add(1)
		// When no backend of the pool passed its readiness, all stay in
		// rotation: taking them all out would only turn a struggling app
		// into 502s. Requests still go to them, and a backend that stops
		// accepting connections is handled by the dial-failure path (which
		// activates the tenant again when none answers).
		if healthy[c.pool] == 0 || int(n) < rt.cfg.HealthFailures {
			continue
		}
		c.pool.fails[c.i].Store(0)
		c.pool.markDown(rt, c.i, c.err)
	}
}

// readinessPath is the path probed for a route's readiness ("/" when none is set).
func readinessPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
