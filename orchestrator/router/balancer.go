package router

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/route"
)

// maxBackends bounds the replicas one request tries (a bit each in a uint64).
const maxBackends = 64

// pools holds the balancing state of each routed tenant, by slug.
type pools struct {
	mu sync.RWMutex
	m  map[string]*pool
	// closeIdle closes the idle connections to backends no pool serves any more.
	closeIdle func(addrs []string)
}

func newPools(closeIdle func(addrs []string)) *pools {
	return &pools{m: make(map[string]*pool), closeIdle: closeIdle}
}

// pool balances requests over one generation of a tenant's backends.
type pool struct {
	gen       int64
	addrs     []string
	readiness string
	slug      string
	next      atomic.Uint64
	down      []atomic.Bool
	fails     []atomic.Int32  // consecutive failed readiness probes
	ctx       context.Context // ends when the pool is replaced
	cancel    context.CancelFunc
}

// get returns the pool of a route, replacing one made for other backends.
func (ps *pools) get(rte route.Route) *pool {
	ps.mu.RLock()
	p := ps.m[rte.Slug]
	ps.mu.RUnlock()
	if p != nil && p.serves(rte) {
		return p
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p = ps.m[rte.Slug]
	if p != nil && p.serves(rte) {
		return p
	}
	if p != nil {
		if rte.Generation < p.gen {
			// A request that read the table before the change: serve
			// it without undoing the newer pool.
			return newPool(rte)
		}
		p.cancel()
		ps.closeIdle(gone(p.addrs, rte.Backends))
	}
	p = newPool(rte)
	ps.m[rte.Slug] = p
	return p
}

// gone returns the addresses of old that are not in cur.
func gone(old, cur []string) []string {
	var out []string
	for _, a := range old {
		if !slices.Contains(cur, a) {
			out = append(out, a)
		}
	}
	return out
}

// drop forgets a tenant's pool: it was deleted, or an activation made its
// backends fresh (the next request starts a new pool).
func (ps *pools) drop(slug string) {
	ps.mu.Lock()
	p := ps.m[slug]
	if p != nil {
		p.cancel()
		delete(ps.m, slug)
	}
	ps.mu.Unlock()
	if p != nil {
		ps.closeIdle(p.addrs)
	}
}

func newPool(rte route.Route) *pool {
	addrs := rte.Backends
	if len(addrs) > maxBackends {
		addrs = addrs[:maxBackends]
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &pool{gen: rte.Generation, addrs: addrs, readiness: rte.Readiness, slug: rte.Slug,
		down: make([]atomic.Bool, len(addrs)), fails: make([]atomic.Int32, len(addrs)), ctx: ctx, cancel: cancel}
}

func (p *pool) serves(rte route.Route) bool {
	if p.gen != rte.Generation || len(p.addrs) != min(len(rte.Backends), maxBackends) {
		return false
	}
	for i, a := range p.addrs {
		if rte.Backends[i] != a {
			return false
		}
	}
	return true
}

// pick returns the next backend in turn that is up and not yet tried.
func (p *pool) pick(tried uint64) (int, string, bool) {
	n := uint64(len(p.addrs))
	if n == 0 {
		return 0, "", false
	}
	start := p.next.Add(1)
	for k := uint64(0); k < n; k++ {
		i := (start + k) % n
		if tried&(1<<i) != 0 || p.down[i].Load() {
			continue
		}
		return int(i), p.addrs[i], true
	}
	return 0, "", false
}

// markDown takes a backend out of the rotation (it refused a dial, or failed
// its readiness checks) and probes its readiness path until it answers
// again (or the pool is replaced).
func (p *pool) markDown(rt *Router, i int, cause error) {
	if !p.down[i].CompareAndSwap(false, true) {
		return
	}
	rt.logger.Warn("backend taken out of rotation", slog.String("tenant", p.slug), slog.String("backend", p.addrs[i]), slog.Any("err", cause))
	url := "http://" + p.addrs[i] + readinessPath(p.readiness)
	rt.spawn(func(base context.Context) {
		ctx, cancel := context.WithCancel(p.ctx)
		defer cancel()
		stop := context.AfterFunc(base, cancel)
		defer stop()
		pr := ready.Prober{Interval: rt.cfg.ReprobeInterval, MaxInterval: rt.cfg.ReprobeInterval,
			DialTimeout: 100 * time.Millisecond, RequestTimeout: 2 * time.Second, Dial: rt.cfg.Dial}
		if err := pr.Wait(ctx, url); err != nil {
			return
		}
		p.down[i].Store(false)
		rt.logger.Info("backend back in rotation", slog.String("tenant", p.slug), slog.String("backend", p.addrs[i]))
	})
}

// sameBackends reports whether two versions of a route send to the same backends.
func sameBackends(a, b route.Route) bool {
	if a.Generation != b.Generation || len(a.Backends) != len(b.Backends) {
		return false
	}
	for i := range a.Backends {
		if a.Backends[i] != b.Backends[i] {
			return false
		}
	}
	return true
}
