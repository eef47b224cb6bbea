package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// statsSource is the part of the runtime the sampler reads.
type statsSource interface {
	Tenants(ctx context.Context) ([]runtime.Observation, error)
	Stats(ctx context.Context, replicaID string) (runtime.Stats, error)
}

// statsStore keeps the samples.
type statsStore interface {
	AddTenantStats(ctx context.Context, at time.Time, stats []store.TenantStat) error
	PruneTenantStats(ctx context.Context, before time.Time) (int64, error)
	SampleHost(ctx context.Context, at time.Time) (store.HostSample, error)
	PruneHostSamples(ctx context.Context, before time.Time) (int64, error)
}

// Sampler records, once a minute, the CPU and memory of each running
// tenant (the sum over its running containers) and the host's counts of
// running and passivated tenants, and prunes what is older than it keeps.
// Stopped and paused containers are not sampled: a passivated tenant costs
// the engine nothing.
type Sampler struct {
	Runtime statsSource
	Store   statsStore
	// Interval is the resolution (one minute by default).
	Interval time.Duration
	// Keep is how long tenant samples live (24 h); KeepHost the host's (7 days).
	Keep, KeepHost time.Duration
	// Concurrency bounds parallel stats calls (4 by default): each takes one
	// to two seconds, as the engine samples on a one-second tick.
	Concurrency int
	Now         func() time.Time
	Logger      *slog.Logger
}

// SampleResult says what one pass did.
type SampleResult struct {
	At         time.Time
	Tenants    int
	Containers int
	Failed     int
	Pruned     int64
	Host       store.HostSample
	Took       time.Duration
}

func (s *Sampler) defaults() {
	if s.Interval <= 0 {
		s.Interval = time.Minute
	}
	if s.Keep <= 0 {
		s.Keep = 24 * time.Hour
	}
	if s.KeepHost <= 0 {
		s.KeepHost = 7 * 24 * time.Hour
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 4
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
}

// Run samples at once (so that the charts have a point from the start),
// then at the start of every interval until ctx ends. A pass that fails
// is logged and the next one tried on time.
func (s *Sampler) Run(ctx context.Context) error {
	s.defaults()
	for first := true; ; first = false {
		if !first {
			now := s.Now()
			wait := now.Truncate(s.Interval).Add(s.Interval).Sub(now)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		res, err := s.SampleOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.Logger.Error("sample tenants", slog.Any("err", err))
			continue
		}
		s.Logger.Debug("sampled tenants", slog.Int("tenants", res.Tenants), slog.Int("containers", res.Containers),
			slog.Int("failed", res.Failed), slog.Int64("pruned", res.Pruned), slog.Duration("took", res.Took))
	}
}

// SampleOnce takes one sample of every running tenant and of the host,
// stamped with the current interval's start, and prunes old samples.
func (s *Sampler) SampleOnce(ctx context.Context) (SampleResult, error) {
	s.defaults()
	start := time.Now()
	at := s.Now().UTC().Truncate(s.Interval)
	res := SampleResult{At: at}
	// The host counts come first: they are cheap and must not wait for stats.
	host, err := s.Store.SampleHost(ctx, at)
	if err != nil {
		return res, err
	}
	res.Host = host
	obs, err := s.Runtime.Tenants(ctx)
	if err != nil {
		return res, fmt.Errorf("list running replicas: %w", err)
	}
	var (
		mu     sync.Mutex
		sums   = map[string]*store.TenantStat{}
		failed int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.Concurrency)
	for _, o := range obs {
		tenant := o.Tenant
		for _, c := range o.Replicas {
			if tenant == "" || !c.Running || c.Paused {
				continue
			}
			res.Containers++
			g.Go(func() error {
				sctx, cancel := context.WithTimeout(gctx, 15*time.Second)
				defer cancel()
				st, err := s.Runtime.Stats(sctx, c.ID)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					// A replica that stopped meanwhile is not an error of the pass.
					failed++
					s.Logger.Debug("replica stats", slog.String("tenant", tenant), slog.String("replica", c.Name), slog.Any("err", err))
					return nil
				}
				sum := sums[tenant]
				if sum == nil {
					sum = &store.TenantStat{TenantID: tenant}
					sums[tenant] = sum
				}
				sum.CPUPercent += st.CPUPercent
				sum.MemBytes += st.MemBytes
				return nil
			})
		}
	}
	_ = g.Wait()
	res.Failed = failed
	rows := make([]store.TenantStat, 0, len(sums))
	for _, v := range sums {
		rows = append(rows, *v)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].TenantID < rows[j].TenantID })
	res.Tenants = len(rows)
	if err := s.Store.AddTenantStats(ctx, at, rows); err != nil {
		return res, err
	}
	n, err := s.Store.PruneTenantStats(ctx, at.Add(-s.Keep))
	if err != nil {
		return res, err
	}
	res.Pruned = n
	if _, err := s.Store.PruneHostSamples(ctx, at.Add(-s.KeepHost)); err != nil {
		return res, err
	}
	res.Took = time.Since(start)
	return res, nil
}
