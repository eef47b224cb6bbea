package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/ready"
)

// client is the load generator's HTTP client: keep-alive, enough idle
// connections for the concurrency, no proxy.
func client(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 90 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        concurrency * 2,
			MaxIdleConnsPerHost: concurrency * 2,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// firstByte sends one GET and returns the time to the first byte of the
// answer and its status.
func firstByte(ctx context.Context, c *http.Client, url, host string) (time.Duration, int, error) {
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return first.Sub(start), resp.StatusCode, nil
}

// floorCycle starts the stopped containers straight through the engine, in
// dependency order, and waits until the web replica answers its readiness
// path: what any start must cost, without the router or the reconciler.
// It stops them again afterwards.
func (f *fixture) floorCycle(ctx context.Context) (time.Duration, error) {
	cs, err := f.containers(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	var web string
	for _, c := range cs {
		if err := f.docker.Start(ctx, c.ID); err != nil {
			return 0, err
		}
		if c.Labels[docker.LabelService] == "web" && web == "" {
			got, err := f.docker.Inspect(ctx, c.ID)
			if err != nil {
				return 0, err
			}
			web = got.IPs[docker.NetworkName("bench-"+f.id, f.tenant.Slug)]
		}
	}
	if web == "" {
		return 0, fmt.Errorf("no address of the web replica")
	}
	if err := ready.WaitReady(ctx, "http://"+net.JoinHostPort(web, f.webPort)+"/healthz"); err != nil {
		return 0, err
	}
	took := time.Since(start)
	for i := len(cs) - 1; i >= 0; i-- {
		if err := f.docker.Stop(ctx, cs[i].ID, 10*time.Second); err != nil {
			return 0, err
		}
	}
	return took, nil
}

// activationCycle passivates the tenant, then times one request through
// the router to its first byte.
func (f *fixture) activationCycle(ctx context.Context, c *http.Client) (time.Duration, error) {
	if err := f.rec.Passivate(ctx, f.tenant.ID, "bench"); err != nil {
		return 0, err
	}
	return f.timedRequest(ctx, c)
}

// pauseCycle pauses the running tenant, then times one request.
func (f *fixture) pauseCycle(ctx context.Context, c *http.Client) (time.Duration, error) {
	if err := f.rec.Pause(ctx, f.tenant.ID); err != nil {
		return 0, err
	}
	return f.timedRequest(ctx, c)
}

func (f *fixture) timedRequest(ctx context.Context, c *http.Client) (time.Duration, error) {
	d, status, err := firstByte(ctx, c, f.base+"/healthz", f.host)
	if err != nil {
		return 0, err
	}
	if status != 200 {
		return 0, fmt.Errorf("status %d", status)
	}
	return d, nil
}

// loadResult is one run of the load generator.
type loadResult struct {
	requests int
	errors   int
	elapsed  time.Duration
	lat      []time.Duration
	// cpu is this process's CPU time during the run: the load generator,
	// plus the router when the requests go through it.
	cpu time.Duration
}

// cpuPerRequest is this process's CPU time per request.
func (r loadResult) cpuPerRequest() time.Duration {
	if r.requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.requests)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// load sends GETs from concurrency workers for d (after a warm-up) and
// records every latency.
func load(ctx context.Context, url, host string, concurrency int, warmup, d time.Duration) loadResult {
	c := client(concurrency)
	defer c.CloseIdleConnections()
	run := func(d time.Duration, record bool) loadResult {
		var mu sync.Mutex
		var res loadResult
		var stop atomic.Bool
		var wg sync.WaitGroup
		start := time.Now()
		cpu0 := processCPU()
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lat := make([]time.Duration, 0, 4096)
				errs := 0
				for !stop.Load() {
					t0 := time.Now()
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
					if host != "" {
						req.Host = host
					}
					resp, err := c.Do(req)
					if err != nil {
						errs++
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs++
						continue
					}
					lat = append(lat, time.Since(t0))
				}
				if record {
					mu.Lock()
					res.lat = append(res.lat, lat...)
					res.errors += errs
					mu.Unlock()
				}
			}()
		}
		time.Sleep(d)
		stop.Store(true)
		wg.Wait()
		res.elapsed = time.Since(start)
		res.cpu = processCPU() - cpu0
		res.requests = len(res.lat)
		return res
	}
	run(warmup, false)
	return run(d, true)
}

// percentile returns the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// herd sends n concurrent requests on the passivated tenant and reports the
// statuses, the activations and the container starts the engine saw.
func (f *fixture) herd(ctx context.Context, n int) (ok int, activations int64, maxStarts int, took time.Duration, err error) {
	if err := f.rec.Passivate(ctx, f.tenant.ID, "bench"); err != nil {
		return 0, 0, 0, 0, err
	}
	ectx, cancel := context.WithCancel(ctx)
	evs, _ := f.docker.Events(ectx, map[string]string{docker.LabelTenant: f.tenant.ID})
	starts := map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range evs {
			if ev.Type == "container" && ev.Action == "start" {
				starts[ev.Name]++
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // the event stream is open
	before := f.act.calls.Load()
	c := client(n)
	var wg sync.WaitGroup
	var served atomic.Int64
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, status, err := firstByte(ctx, c, f.base+"/healthz", f.host); err == nil && status == 200 {
				served.Add(1)
			}
		}()
	}
	wg.Wait()
	took = time.Since(start)
	time.Sleep(500 * time.Millisecond) // late events arrive
	cancel()
	<-done
	for _, s := range starts {
		maxStarts = max(maxStarts, s)
	}
	return int(served.Load()), f.act.calls.Load() - before, maxStarts, took, nil
}
