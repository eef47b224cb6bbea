package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/internal/enginetest"
	"appfactory/orchestrator/ready"
)

// Run with: go test ./orchestrator -run '^$' -bench . -benchtime 10x
// Each reports the median (p50-ms) and the spread of its runs.

// benchProber probes every 10 to 20 ms with 30 ms dials.
var benchProber = ready.Prober{Interval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond, DialTimeout: 30 * time.Millisecond, RequestTimeout: 2 * time.Second}

// BenchmarkRawDeploy measures the floor of deploying a two-container tenant
// from nothing: network, volume, two containers, start, and the first 200
// of /healthz from each on its network address.
func BenchmarkRawDeploy(b *testing.B) {
	e := enginetest.New(b)
	image := e.Image(b)
	ctx := context.Background()
	var total, netT, volT, createT, startT, readyT []time.Duration

	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("raw%d", i)
		netName := e.Name(prefix)
		volName := e.Name(prefix + "-data")
		begin := time.Now()

		var err error
		for range 50 {
			_, err = e.D.EnsureNetwork(ctx, docker.NetworkSpec{Name: netName, Subnet: enginetest.RandomSubnet().String(), Internal: true, Labels: e.Labels})
			if err == nil {
				break
			}
		}
		if err != nil {
			b.Fatal(err)
		}
		tNet := time.Now()
		if err := e.D.EnsureVolume(ctx, docker.VolumeSpec{Name: volName, Labels: e.Labels}); err != nil {
			b.Fatal(err)
		}
		tVol := time.Now()
		ids := make([]string, 2)
		for j, spec := range []docker.ContainerSpec{
			enginetest.ServerSpec(e.Name(prefix+"-store-1"), image, netName, volName),
			enginetest.ServerSpec(e.Name(prefix+"-web-1"), image, netName, ""),
		} {
			spec.Labels = e.Labels
			if ids[j], _, err = e.D.CreateContainer(ctx, spec); err != nil {
				b.Fatal(err)
			}
		}
		tCreate := time.Now()
		tStart := startAndWait(b, e.D, ids, netName)
		end := time.Now()

		total = append(total, end.Sub(begin))
		netT = append(netT, tNet.Sub(begin))
		volT = append(volT, tVol.Sub(tNet))
		createT = append(createT, tCreate.Sub(tVol))
		startT = append(startT, tStart.Sub(tCreate))
		readyT = append(readyT, end.Sub(tStart))

		b.StopTimer()
		for _, id := range ids {
			if err := e.D.RemoveContainer(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.D.RemoveVolume(ctx, volName); err != nil {
			b.Fatal(err)
		}
		if err := e.D.RemoveNetwork(ctx, netName); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportMedians(b, total, map[string][]time.Duration{"network": netT, "volume": volT, "create": createT, "start": startT, "ready": readyT})
}

// BenchmarkActivateFloor measures activating a passivated tenant: start of
// its stopped containers until each answers 200, probing every 10 to 20 ms
// with short dials once start has returned. Sub-benchmarks start one
// container, or two at once, or two one after the other.
func BenchmarkActivateFloor(b *testing.B) {
	for _, tc := range []struct {
		name       string
		containers int
		concurrent bool
	}{
		{"one", 1, true},
		{"two-concurrent", 2, true},
		{"two-sequential", 2, false},
	} {
		b.Run(tc.name, func(b *testing.B) { benchActivate(b, tc.containers, tc.concurrent) })
	}
}

func benchActivate(b *testing.B, containers int, concurrent bool) {
	e := enginetest.New(b)
	image := e.Image(b)
	netName, _, _ := e.Network(b, "act", true)
	vol := e.Volume(b, "act-data")
	ids := []string{e.Container(b, enginetest.ServerSpec(e.Name("act-store-1"), image, netName, vol))}
	if containers > 1 {
		ids = append(ids, e.Container(b, enginetest.ServerSpec(e.Name("act-web-1"), image, netName, "")))
	}
	ctx := context.Background()
	var total, startT, readyT []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				if err := e.D.Stop(ctx, id, 5*time.Second); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		b.StartTimer()

		begin := time.Now()
		var tStart time.Time
		if concurrent {
			tStart = startAndWait(b, e.D, ids, netName)
		} else {
			for _, id := range ids {
				tStart = startAndWait(b, e.D, []string{id}, netName)
			}
		}
		end := time.Now()
		total = append(total, end.Sub(begin))
		startT = append(startT, tStart.Sub(begin))
		readyT = append(readyT, end.Sub(tStart))
	}
	b.StopTimer()
	reportMedians(b, total, map[string][]time.Duration{"start": startT, "ready": readyT})
}

// startAndWait starts the containers concurrently, then reads each one's
// address and probes it until /healthz answers. It returns when the last
// start call returned.
func startAndWait(b *testing.B, d *docker.Docker, ids []string, netName string) time.Time {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		started time.Time
	)
	for _, id := range ids {
		wg.Go(func() {
			if err := d.Start(ctx, id); err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			started = later(started, time.Now())
			mu.Unlock()
			// The address can change at every start: read it afterwards.
			c, err := d.Inspect(ctx, id)
			if err != nil {
				b.Error(err)
				return
			}
			if err := benchProber.Wait(ctx, "http://"+c.IPs[netName]+":8080/healthz"); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return started
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// reportMedians reports the median, fastest and slowest of total and the
// median of each phase, in milliseconds.
func reportMedians(b *testing.B, total []time.Duration, phases map[string][]time.Duration) {
	b.Helper()
	if len(total) == 0 {
		return
	}
	b.ReportMetric(ms(median(total)), "p50-ms")
	b.ReportMetric(ms(slices.Min(total)), "min-ms")
	b.ReportMetric(ms(slices.Max(total)), "max-ms")
	for name, d := range phases {
		b.ReportMetric(ms(median(d)), name+"-p50-ms")
	}
	b.Logf("runs: %v", total)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
