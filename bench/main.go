// Command bench measures the tenant router against the real engine: the
// cost of activation from the stop and the pause tiers beside the raw floor
// of starting the same containers, the proxy's overhead on a running tenant,
// a herd of concurrent requests on a sleeping one, and the router side by
// side with nginx and with no proxy at all, loaded by wrk. It deploys one
// tenant of the sample platform (make images first), prints a table, and
// removes everything it made.
//
//	go run ./bench [-cycles 20] [-concurrency 64] [-duration 5s] [-herd 200]
//	go run ./bench -matrix    # only the side by side: 1, 16, 64, 256 connections, two paths, two rounds
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	cycles := flag.Int("cycles", 20, "activation cycles of each kind")
	concurrency := flag.Int("concurrency", 64, "concurrent connections of the load generator")
	duration := flag.Duration("duration", 5*time.Second, "length of each load run (after a 1 s warm-up); in the side by side, each target's, in 1 s runs taken in turn")
	herdSize := flag.Int("herd", 200, "concurrent requests on a passivated tenant")
	verbose := flag.Bool("v", false, "log what the orchestrator does")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the routed load run (with -matrix: of the whole side by side, where this process is only the router) to this file")
	matrix := flag.Bool("matrix", false, "run only the side by side with nginx, in full: 1, 16, 64 and 256 connections, the readiness path and the app's page, two interleaved rounds")
	conns := flag.String("conns", "1,16,64,256", "connection counts of the -matrix side by side")
	rounds := flag.Int("rounds", 2, "interleaved rounds of the -matrix side by side")
	paths := flag.String("paths", "readiness,page", "paths of the -matrix side by side: readiness (the tenant's readiness path), page (the app's page), or both")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var logw io.Writer = io.Discard
	if *verbose {
		logw = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logw, nil))
	var err error
	if *matrix {
		var cs []int
		if cs, err = parseConns(*conns); err == nil {
			names := strings.Split(*paths, ",")
			for _, n := range names {
				if n != "readiness" && n != "page" {
					err = fmt.Errorf("-paths: %q is neither readiness nor page", n)
				}
			}
			if err == nil {
				err = runMatrix(ctx, logger, cs, names, *rounds, *duration, *cpuProfile)
			}
		}
	} else {
		err = run(ctx, logger, *cycles, *concurrency, *duration, *herdSize, *cpuProfile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// figures are what one bench run measured, for the table.
type figures struct {
	concurrency, herdSize            int
	duration                         time.Duration
	direct, routed, direct1, routed1 loadResult
	floor, stopTier, pauseTier       []time.Duration
	herdOK, herdMaxStarts            int
	herdActs                         int64
	herdTook                         time.Duration
	bots                             botResult
	side                             *sideBySide
}

func run(ctx context.Context, logger *slog.Logger, cycles, concurrency int, duration time.Duration, herdSize int, cpuProfile string) error {
	fmt.Fprintln(os.Stderr, "deploying a tenant of the sample platform...")
	f, err := newFixture(ctx, logger)
	defer func() {
		fmt.Fprintln(os.Stderr, "removing the tenant...")
		f.close(logger)
	}()
	if err != nil {
		return err
	}
	fig := &figures{concurrency: concurrency, duration: duration, herdSize: herdSize}
	if err := f.measureProxy(ctx, fig, cpuProfile); err != nil {
		return err
	}
	if err := f.measureActivation(ctx, fig, cycles); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "herd: %d concurrent requests on a passivated tenant...\n", herdSize)
	if fig.herdOK, fig.herdActs, fig.herdMaxStarts, fig.herdTook, err = f.herd(ctx, herdSize); err != nil {
		return err
	}
	if fig.bots, err = f.bots(ctx, 100, 10000); err != nil {
		return err
	}
	// The default run compares at its own concurrency, on the cheap path,
	// once; -matrix runs the full comparison.
	if err := f.wake(ctx); err != nil {
		return err
	}
	fig.side = &sideBySide{conns: []int{concurrency}, paths: f.benchPaths()[:1], rounds: 1, duration: duration}
	if err := f.measureSideBySide(ctx, fig.side); err != nil {
		return err
	}
	if err := fig.print(os.Stdout); err != nil {
		return err
	}
	fmt.Println()
	return fig.side.print(os.Stdout)
}

// runMatrix deploys the tenant and runs only the full side by side.
func runMatrix(ctx context.Context, logger *slog.Logger, conns []int, names []string, rounds int, duration time.Duration, cpuProfile string) error {
	fmt.Fprintln(os.Stderr, "deploying a tenant of the sample platform...")
	f, err := newFixture(ctx, logger)
	defer func() {
		fmt.Fprintln(os.Stderr, "removing the tenant...")
		f.close(logger)
	}()
	if err != nil {
		return err
	}
	var chosen []benchPath
	for _, p := range f.benchPaths() {
		if slices.Contains(names, p.name) {
			chosen = append(chosen, p)
		}
	}
	sb := &sideBySide{conns: conns, paths: chosen, rounds: rounds, duration: duration}
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	err = f.measureSideBySide(ctx, sb)
	stopProfile()
	if err != nil {
		return err
	}
	return sb.print(os.Stdout)
}

// benchPaths are the cheap path (the tenant's readiness path) and the
// app's real page.
func (f *fixture) benchPaths() []benchPath {
	cheap := "/healthz"
	if r, ok := f.routes.Get(f.tenant.Slug); ok && r.Readiness != "" {
		cheap = r.Readiness
	}
	return []benchPath{{"readiness", cheap}, {"page", "/"}}
}

// wake brings the tenant back after the sections that passivate it.
func (f *fixture) wake(ctx context.Context) error {
	if _, status, err := firstByte(ctx, client(1), f.base+"/healthz", f.host); err != nil || status != 200 {
		return fmt.Errorf("wake the tenant: status %d: %v", status, err)
	}
	return nil
}

// measureProxy loads the freshly deployed tenant directly and through the
// router, with many connections and with one.
func (f *fixture) measureProxy(ctx context.Context, fig *figures, cpuProfile string) error {
	backend, err := f.webBackend()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(backend)
	f.webPort = port
	fmt.Fprintf(os.Stderr, "load: %d connections for %s, direct then through the router...\n", fig.concurrency, fig.duration)
	fig.direct = load(ctx, "http://"+backend+"/healthz", "", fig.concurrency, time.Second, fig.duration)
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	fig.routed = load(ctx, f.base+"/healthz", f.host, fig.concurrency, time.Second, fig.duration)
	stopProfile()
	// One connection: the latency the router adds, with the CPU not saturated.
	fig.direct1 = load(ctx, "http://"+backend+"/healthz", "", 1, time.Second, fig.duration)
	fig.routed1 = load(ctx, f.base+"/healthz", f.host, 1, time.Second, fig.duration)
	return nil
}

// measureActivation runs cycles of the raw floor, the stop tier and the pause tier.
func (f *fixture) measureActivation(ctx context.Context, fig *figures, cycles int) error {
	fmt.Fprintf(os.Stderr, "activation: %d cycles of floor, stop tier and pause tier...\n", cycles)
	c := client(4)
	for i := 0; i < cycles; i++ {
		if err := f.rec.Passivate(ctx, f.tenant.ID, "bench"); err != nil {
			return err
		}
		d, err := f.floorCycle(ctx)
		if err != nil {
			return fmt.Errorf("floor cycle %d: %w", i, err)
		}
		fig.floor = append(fig.floor, d)
		if d, err = f.activationCycle(ctx, c); err != nil {
			return fmt.Errorf("activation cycle %d: %w", i, err)
		}
		fig.stopTier = append(fig.stopTier, d)
		if d, err = f.pauseCycle(ctx, c); err != nil {
			return fmt.Errorf("pause cycle %d: %w", i, err)
		}
		fig.pauseTier = append(fig.pauseTier, d)
	}
	return nil
}

// print writes the table of a run's figures.
func (fig *figures) print(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	signed := func(d time.Duration) string { return fmt.Sprintf("%+.1f ms", float64(d.Microseconds())/1000) }
	floor, stopTier, pauseTier := fig.floor, fig.stopTier, fig.pauseTier
	direct, routed, direct1, routed1 := fig.direct, fig.routed, fig.direct1, fig.routed1
	fmt.Fprintln(w, "activation (GET /healthz, first byte)\tp50\tp95\ttarget\t")
	fmt.Fprintf(w, "floor: engine start + readiness, no router\t%s\t%s\t\t\n", ms(percentile(floor, 50)), ms(percentile(floor, 95)))
	fmt.Fprintf(w, "from passivated, through the router\t%s\t%s\tp50 <= floor + 20 ms (%s)\t\n",
		ms(percentile(stopTier, 50)), ms(percentile(stopTier, 95)), verdict(percentile(stopTier, 50) <= percentile(floor, 50)+20*time.Millisecond))
	fmt.Fprintf(w, "from paused, through the router\t%s\t%s\tp50 <= 30 ms (%s)\t\n",
		ms(percentile(pauseTier, 50)), ms(percentile(pauseTier, 95)), verdict(percentile(pauseTier, 50) <= 30*time.Millisecond))
	fmt.Fprintln(w, "\t\t\t\t")
	fmt.Fprintf(w, "proxy (c=%d, %s)\treq/s\tp50\tp99\terrors\t\n", fig.concurrency, fig.duration)
	fmt.Fprintf(w, "direct to the container\t%.0f\t%s\t%s\t%d\t\n", direct.rps(), ms(percentile(direct.lat, 50)), ms(percentile(direct.lat, 99)), direct.errors)
	fmt.Fprintf(w, "through the router\t%.0f\t%s\t%s\t%d\t\n", routed.rps(), ms(percentile(routed.lat, 50)), ms(percentile(routed.lat, 99)), routed.errors)
	ratio := routed.rps() / direct.rps()
	added := percentile(routed.lat, 99) - percentile(direct.lat, 99)
	fmt.Fprintf(w, "router / direct\t%.2fx\t\t%s\ttarget >= 0.85x (%s), p99 added < 2 ms (%s)\t\n", ratio, signed(added),
		verdict(ratio >= 0.85), verdict(added < 2*time.Millisecond))
	fmt.Fprintf(w, "one connection: direct\t%.0f\t%s\t%s\t%d\t\n", direct1.rps(), ms(percentile(direct1.lat, 50)), ms(percentile(direct1.lat, 99)), direct1.errors)
	fmt.Fprintf(w, "one connection: through the router\t%.0f\t%s\t%s\t%d\t\n", routed1.rps(), ms(percentile(routed1.lat, 50)), ms(percentile(routed1.lat, 99)), routed1.errors)
	fmt.Fprintf(w, "one connection: added by the router\t\t%s\t%s\t\t\n",
		signed(percentile(routed1.lat, 50)-percentile(direct1.lat, 50)), signed(percentile(routed1.lat, 99)-percentile(direct1.lat, 99)))
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d.Nanoseconds())/1000) }
	fmt.Fprintf(w, "router CPU per request (c=%d)\t%s\t\t\tload generator alone: %s\t\n", fig.concurrency,
		us(routed.cpuPerRequest()-direct.cpuPerRequest()), us(direct.cpuPerRequest()))
	fmt.Fprintln(w, "\t\t\t\t")
	fmt.Fprintln(w, "herd on a passivated tenant\tserved\tactivations\tmax starts per container\ttook\t")
	fmt.Fprintf(w, "%d concurrent requests\t%d/%d\t%d\t%d\t%s\t\n", fig.herdSize, fig.herdOK, fig.herdSize, fig.herdActs, fig.herdMaxStarts, ms(fig.herdTook))
	fmt.Fprintln(w, "\t\t\t\t")
	b := fig.bots
	fmt.Fprintln(w, "crawlers, monitors, HEAD, robots.txt\tanswered\tactivations\tengine starts\ttook\t")
	fmt.Fprintf(w, "%d requests across %d sleeping tenants\t%d/%d\t%d\t%d (%s)\t%s\t\n", b.requests, b.tenants, b.answered, b.requests,
		b.activations, b.engineStarts, verdict(b.engineStarts == 0 && b.activations == 0), ms(b.took))
	return w.Flush()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// startCPUProfile profiles the process (router and load generator alike)
// into path until the returned function is called; "" profiles nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); out.Close() }, nil
}

// parseConns reads a comma-separated list of connection counts.
func parseConns(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-conns: %q is not a connection count", f)
		}
		out = append(out, n)
	}
	return out, nil
}
