// Command budget measures the host memory budget against the real engine:
// it deploys -tenants tiny tenants of the sample platform under a budget
// that fits -fits of them (deploys go through the budget too), puts them
// all to sleep, then wakes every one at once with a held API request, and
// prints the total time, how many requests were served, how many starts
// waited in the queue, the evictions, the most memory the budget ever held
// and the containers the kernel OOM-killed. It removes everything it made.
//
//	go run ./bench/budget [-tenants 50] [-fits 20]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"appfactory/bench/internal/benchclean"
	"appfactory/orchestrator/budget"
)

func main() {
	tenants := flag.Int("tenants", 50, "tenants deployed and woken at once")
	fits := flag.Int("fits", 20, "tenants the memory budget fits")
	minIdle := flag.Duration("min-idle", time.Second, "how long a tenant must be idle to be evicted")
	verbose := flag.Bool("v", false, "log what the orchestrator does")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var logw io.Writer = io.Discard
	if *verbose {
		logw = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logw, nil))
	if err := run(ctx, logger, *tenants, *fits, *minIdle); err != nil {
		fmt.Fprintln(os.Stderr, "bench budget:", err)
		os.Exit(1)
	}
}

// result is what one wake of every tenant measured.
type result struct {
	tenants, fits             int
	budgetBytes, tenantBytes  int64
	deployTook, wakeTook      time.Duration
	served, failed            int
	queued, evicted, maxQueue int64
	maxUsed                   int64
	oomKilled, containers     int
	slowest, fastest          time.Duration
}

func run(ctx context.Context, logger *slog.Logger, tenants, fits int, minIdle time.Duration) error {
	if tenants < 1 || fits < 1 || tenants > 60 {
		return fmt.Errorf("want 1 to 60 tenants and a budget of at least one")
	}
	// The trial environment: store and web at 256 MiB each.
	const tenantBytes = 512 << 20
	res := &result{tenants: tenants, fits: fits, tenantBytes: tenantBytes, budgetBytes: int64(fits)*tenantBytes + 64<<20}
	f, err := newFleet(ctx, logger, res.budgetBytes, minIdle)
	defer func() {
		fmt.Fprintln(os.Stderr, "removing the tenants...")
		f.close(logger)
	}()
	if err != nil {
		return err
	}
	watch, stopWatch := f.watchBudget(res)
	defer stopWatch()
	fmt.Fprintf(os.Stderr, "deploying %d tenants under a budget of %s (fits %d)...\n", tenants, budget.MiB(res.budgetBytes), fits)
	start := time.Now()
	if err := f.deployAll(ctx, tenants); err != nil {
		return err
	}
	res.deployTook = time.Since(start)
	fmt.Fprintln(os.Stderr, "putting every tenant to sleep...")
	if err := f.passivateAll(ctx); err != nil {
		return err
	}
	before := f.budget.Snapshot().Counts
	fmt.Fprintf(os.Stderr, "waking %d tenants at once...\n", tenants)
	f.wakeAll(ctx, res)
	after := f.budget.Snapshot().Counts
	res.queued, res.evicted = after.Queued-before.Queued, after.Evicted-before.Evicted
	stopWatch()
	<-watch
	if res.oomKilled, res.containers, err = f.oomKills(ctx); err != nil {
		return err
	}
	return res.print(os.Stdout)
}

// watchBudget samples the budget until stopped: the most it held and the
// longest queue. A sample above the budget would be an overcommit.
func (f *fleet) watchBudget(res *result) (done <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	quit := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(ch)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			st := f.budget.Snapshot()
			res.maxUsed = max(res.maxUsed, st.Used)
			res.maxQueue = max(res.maxQueue, int64(len(st.Queue)))
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return ch, func() { once.Do(func() { close(quit) }) }
}

// wakeAll sends one held API request to every tenant at once and waits
// for all the answers.
func (f *fleet) wakeAll(ctx context.Context, res *result) {
	c := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	var wg sync.WaitGroup
	var served, failed atomic.Int64
	var mu sync.Mutex
	res.fastest = time.Hour
	start := time.Now()
	for _, tn := range f.tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/healthz", nil)
			req.Host = tn.Slug + ".localhost"
			req.Header.Set("Accept", "application/json")
			resp, err := c.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			took := time.Since(t0)
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
				return
			}
			served.Add(1)
			mu.Lock()
			res.slowest, res.fastest = max(res.slowest, took), min(res.fastest, took)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.wakeTook = time.Since(start)
	res.served, res.failed = int(served.Load()), int(failed.Load())
}

// oomKills inspects every container of the fleet.
func (f *fleet) oomKills(ctx context.Context) (killed, containers int, err error) {
	cs, err := f.docker.ListContainers(ctx, map[string]string{benchclean.Label: f.id}, true)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range cs {
		ci, err := f.docker.Inspect(ctx, c.ID)
		if err != nil {
			return 0, 0, err
		}
		if ci.OOMKilled {
			killed++
		}
	}
	return killed, len(cs), nil
}

func (r *result) print(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	s := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	fmt.Fprintf(w, "memory budget\t%s (%d tenants of %s)\t\n", budget.MiB(r.budgetBytes), r.fits, budget.MiB(r.tenantBytes))
	fmt.Fprintf(w, "deploy of %d tenants through the budget\t%s\t\n", r.tenants, s(r.deployTook))
	fmt.Fprintf(w, "%d woken at once: total time\t%s\t\n", r.tenants, s(r.wakeTook))
	fmt.Fprintf(w, "served\t%d/%d (%d failed)\t\n", r.served, r.tenants, r.failed)
	fmt.Fprintf(w, "first and last answer\t%s, %s\t\n", s(r.fastest), s(r.slowest))
	fmt.Fprintf(w, "starts that waited in the queue\t%d (longest queue %d)\t\n", r.queued, r.maxQueue)
	fmt.Fprintf(w, "idle tenants evicted\t%d\t\n", r.evicted)
	fmt.Fprintf(w, "most memory in the budget\t%s of %s (%s)\t\n", budget.MiB(r.maxUsed), budget.MiB(r.budgetBytes), verdict(r.maxUsed <= r.budgetBytes, "never over", "OVERCOMMITTED"))
	fmt.Fprintf(w, "containers OOM-killed\t%d of %d\t\n", r.oomKilled, r.containers)
	return w.Flush()
}

func verdict(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
