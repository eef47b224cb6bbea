package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// wrkResult is one run of wrk against one target.
type wrkResult struct {
	requests int
	rps      float64
	p50, p99 time.Duration
	// errors are socket errors (connect, read, write, timeout) plus
	// answers that were not 2xx or 3xx.
	errors int
	// cpu is the proxy's CPU time per request (0 for direct).
	cpu time.Duration
	// backend is the routed container's CPU time per request: a trial
	// tenant is capped at half a CPU, so what a proxy costs the container
	// for each request it forwards decides the req/s of all three.
	backend time.Duration
}

// ensureTool installs a Debian package when its command is missing: the
// side-by-side needs wrk (the load generator of all three paths) and
// nginx-light (the reference proxy). apt-get update runs only when the
// install fails without it.
func ensureTool(ctx context.Context, command, pkg string) error {
	if _, err := exec.LookPath(command); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "installing %s (apt-get install -y %s)...\n", command, pkg)
	install := func() error {
		out, err := exec.CommandContext(ctx, "apt-get", "install", "-y", pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install %s: %w: %s", pkg, err, lastLines(out, 5))
		}
		return nil
	}
	if err := install(); err != nil {
		if out, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
			return fmt.Errorf("apt-get update: %w: %s", uerr, lastLines(out, 5))
		}
		if err := install(); err != nil {
			return err
		}
	}
	if _, err := exec.LookPath(command); err != nil {
		return fmt.Errorf("%s installed but %s not found: %w", pkg, command, err)
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// loadTarget is one path to the tenant that wrk loads: its figures go to res.
type loadTarget struct {
	name, url, host string
	cpu             func() time.Duration
	res             *wrkResult
}

// cpuClocks are the CPU time counters a run reads before and after: the
// proxy's and the routed container's.
type cpuClocks struct{ proxy, backend func() time.Duration }

// seconds is how many one-second runs make a duration.
func seconds(d time.Duration) int { return max(1, int(d.Round(time.Second)/time.Second)) }

// interleave loads each target with conns keep-alive connections for d,
// in one-second runs taken in turn, each second from the next target
// (after a one-second warm-up of each, whose figures are dropped): a noisy
// neighbour's burst falls on every target alike. Each result sums the
// runs' requests and errors, averages their req/s, and takes the median
// of their p50 and of their p99 (over the runs that got an answer).
func interleave(ctx context.Context, targets []loadTarget, backend func() time.Duration, conns int, d time.Duration) error {
	for _, t := range targets {
		if _, err := runWrk(ctx, t.url, t.host, conns, time.Second, cpuClocks{t.cpu, backend}); err != nil {
			return fmt.Errorf("%s warm-up: %w", t.name, err)
		}
	}
	runs := make([][]wrkResult, len(targets))
	for turn := range seconds(d) {
		// Each second starts with the next target, so that each follows
		// every other alike: a turn inherits what the one before left
		// (answers still being made for connections wrk closed, sockets
		// in TIME_WAIT), and a fixed order gave that to one target only.
		for k := range targets {
			i := (turn + k) % len(targets)
			t := targets[i]
			r, err := runWrk(ctx, t.url, t.host, conns, time.Second, cpuClocks{t.cpu, backend})
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			runs[i] = append(runs[i], r)
		}
	}
	for i, t := range targets {
		*t.res = combine(runs[i])
	}
	return nil
}

// combine makes one result of runs of the same length.
func combine(runs []wrkResult) wrkResult {
	var r wrkResult
	var cpu, backend time.Duration
	var p50s, p99s []time.Duration
	for _, x := range runs {
		r.requests += x.requests
		r.errors += x.errors
		r.rps += x.rps / float64(len(runs))
		cpu += x.cpu * time.Duration(x.requests)
		backend += x.backend * time.Duration(x.requests)
		if x.requests > 0 {
			// A second in which no answer came (a page that takes
			// longer) has no latencies to count.
			p50s, p99s = append(p50s, x.p50), append(p99s, x.p99)
		}
	}
	if len(p50s) > 0 {
		slices.Sort(p50s)
		slices.Sort(p99s)
		r.p50, r.p99 = p50s[len(p50s)/2], p99s[len(p99s)/2]
	}
	if r.requests > 0 {
		r.cpu = cpu / time.Duration(r.requests)
		r.backend = backend / time.Duration(r.requests)
	}
	return r
}

// runWrk loads url with conns keep-alive connections for d, sending host
// as the Host header when it is set; clocks are read before and after.
func runWrk(ctx context.Context, url, host string, conns int, d time.Duration, clocks cpuClocks) (wrkResult, error) {
	threads := min(conns, 2)
	a := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", seconds(d)),
		"--timeout", "10s", "--latency"}
	if host != "" {
		a = append(a, "-H", "Host: "+host)
	}
	cpu0, backend0 := clocks.proxy(), clocks.backend()
	out, err := exec.CommandContext(ctx, "wrk", append(a, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, lastLines(out, 3))
	}
	used, backend := clocks.proxy()-cpu0, clocks.backend()-backend0
	r, err := parseWrk(out)
	if err == nil && r.requests > 0 {
		r.cpu = used / time.Duration(r.requests)
		r.backend = backend / time.Duration(r.requests)
	}
	return r, err
}

// parseWrk reads wrk's --latency report.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	var haveRPS bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.p50 = parseWrkDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = parseWrkDuration(f[1])
		case len(f) >= 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
			haveRPS = true
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			r.requests, _ = strconv.Atoi(f[0])
		case len(f) >= 4 && f[0] == "Non-2xx":
			n, _ := strconv.Atoi(f[len(f)-1])
			r.errors += n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.Atoi(strings.TrimSuffix(f[i+1], ","))
				r.errors += n
			}
		}
	}
	if !haveRPS {
		return r, fmt.Errorf("wrk printed no Requests/sec: %s", lastLines(out, 3))
	}
	return r, nil
}

// parseWrkDuration reads wrk's "812.00us", "1.23ms", "2.01s".
func parseWrkDuration(s string) time.Duration {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}}
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return time.Duration(f * float64(u.unit))
		}
	}
	return 0
}
