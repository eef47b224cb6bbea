package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"appfactory/orchestrator/budget"
	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/sleep"
)

// defaultBudgetShare is the share of the host's memory the tenants' limits
// may add up to when --memory-budget is not given: the rest is for the
// engine, appfactory, image builds and the page cache.
const defaultBudgetShare = 75

// budgetConfig is --memory-budget: a size ("12GiB"), a share of the host's
// memory ("60%"), or "off".
type budgetConfig struct {
	Spec  string
	bytes int64 // resolved against the host; 0: no budget
}

func (c *budgetConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Spec, "memory-budget", strconv.Itoa(defaultBudgetShare)+"%", "bound on the sum of the memory limits of running, paused and starting tenants: a size (12GiB, 800MiB), a share of the host's memory (60%), or off")
}

// hostReader is the engine's view of its machine.
type hostReader interface {
	Host(ctx context.Context) (runtime.HostInfo, error)
}

// resolve turns the flag into bytes, reading the host's memory for a share.
func (c *budgetConfig) resolve(ctx context.Context, host hostReader, logger *slog.Logger) error {
	spec := strings.TrimSpace(c.Spec)
	if strings.EqualFold(spec, "off") || spec == "0" {
		c.bytes = 0
		logger.Info("memory budget off")
		return nil
	}
	share := defaultBudgetShare
	if spec != "" && !strings.HasSuffix(spec, "%") {
		n, err := parseBytes(spec)
		if err != nil {
			return fmt.Errorf("--memory-budget: %w", err)
		}
		c.bytes = n
		logger.Info("memory budget", slog.String("budget", budget.MiB(n)))
		return nil
	}
	if spec != "" {
		v, err := strconv.Atoi(strings.TrimSuffix(spec, "%"))
		if err != nil || v < 1 || v > 100 {
			return fmt.Errorf("--memory-budget: want a share from 1%% to 100%%, not %q", spec)
		}
		share = v
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hi, err := host.Host(hctx)
	if err != nil {
		return fmt.Errorf("--memory-budget: read the host's memory: %w", err)
	}
	if hi.MemBytes <= 0 {
		return errors.New("--memory-budget: the engine reports no memory size; give the budget as a size")
	}
	c.bytes = hi.MemBytes * int64(share) / 100
	logger.Info("memory budget", slog.String("budget", budget.MiB(c.bytes)), slog.Int("percent_of_host", share), slog.String("host", budget.MiB(hi.MemBytes)))
	return nil
}

// parseBytes reads a size: bytes, or a number with K, M, G or T (binary,
// with or without "iB"/"B").
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if mult == 0 || err != nil || v <= 0 || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("want a size like 12GiB, 800MiB or a share like 60%%, not %q", s)
	}
	return int64(v * float64(mult)), nil
}

// passivatorEvictor lets the budget evict through the passivator, which is
// made after the router that needs the budget.
type passivatorEvictor struct{ p *sleep.Passivator }

func (e *passivatorEvictor) Evictable(ctx context.Context) (map[string]bool, error) {
	return e.p.Evictable(ctx)
}

func (e *passivatorEvictor) Evict(ctx context.Context, tenantID, reason string) error {
	return e.p.Evict(ctx, tenantID, reason)
}

// newBudget makes the memory budget over the route table and activity and
// has the reconciler's starts wait for it; nil when the budget is off.
// bind hands it the passivator once that exists.
func newBudget(c budgetConfig, fac *factory, activity *route.Activity, logger *slog.Logger) (b *budget.Budget, bind func(*sleep.Passivator)) {
	if c.bytes <= 0 {
		return nil, func(*sleep.Passivator) {}
	}
	ev := &passivatorEvictor{}
	b = budget.New(budget.Config{Bytes: c.bytes, Size: fac.Reconciler.MemoryOf, Evictor: ev,
		Logger: logger.With(slog.String("component", "budget"))}, activity)
	b.Watch(fac.Routes)
	fac.Reconciler.UseBudget(b)
	return b, func(p *sleep.Passivator) { ev.p = p }
}

// registerBudgetMetrics exports the budget's state in /metrics.
func registerBudgetMetrics(reg prometheus.Registerer, b *budget.Budget) error {
	if b == nil {
		return nil
	}
	return metrics.RegisterBudget(reg, func() metrics.BudgetFigures {
		st := b.Snapshot()
		return metrics.BudgetFigures{Bytes: st.Bytes, Used: st.Used, Members: len(st.Members), Waiting: len(st.Queue),
			Admitted: st.Counts.Admitted, Queued: st.Counts.Queued, Evicted: st.Counts.Evicted, Refused: st.Counts.Refused}
	})
}
