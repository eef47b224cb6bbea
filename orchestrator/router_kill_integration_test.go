package orchestrator

import (
	"context"
	"flag"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
)

// killLoad is how long TestLiveRouterLoadThroughKilledReplica loads the
// router: short in make test on a shared 2-core machine; the full
// 30 s with go test ./orchestrator -run KilledReplica -args -kill-load 30s.
var killLoad = flag.Duration("kill-load", 6*time.Second, "length of the load in TestLiveRouterLoadThroughKilledReplica")

// TestLiveRouterLoadThroughKilledReplica loads a tenant of two replicas
// through the router with 256 keep-alive connections while one replica is
// killed (SIGKILL, as the kernel's OOM killer or a crash would) and started
// again. The requests in flight on the killed replica's connections are
// GETs: the router sends them to the other replica, so no request is
// answered 5xx nor fails, and the load goes on through the kill.
func TestLiveRouterLoadThroughKilledReplica(t *testing.T) {
	lr := newLiveRouter(t)
	tn := lr.deploy(t, lr.app(t, "Twins", "1.0", "demo", 2))
	ctx := context.Background()
	web, err := lr.D.ListContainers(ctx, map[string]string{docker.LabelTenant: tn.ID, docker.LabelService: "web"}, false)
	if err != nil || len(web) != 2 {
		t.Fatalf("web replicas: %d, %v", len(web), err)
	}
	if r, ok := lr.routes.Get(tn.Slug); !ok || len(r.Backends) != 2 {
		t.Fatalf("routed backends: %+v", r)
	}

	const conns = 256
	const maxRequests = 2_000_000 // a bound on the count as well as the time
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}}
	defer c.CloseIdleConnections()
	var stop atomic.Bool
	var sent atomic.Int64
	var phase atomic.Int32 // 0 before the kill, 1 while killed, 2 after the start
	var mu sync.Mutex
	statuses := map[int]int{}
	var failures []string
	servedIn := [3]atomic.Int64{}
	var wg sync.WaitGroup
	for i := range conns {
		// Half the connections load the app's page, which keeps a replica
		// busy longer than the readiness path: more requests in flight
		// when it is killed.
		path := "/healthz"
		if i%2 == 1 {
			path = "/"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && sent.Add(1) <= maxRequests {
				req, _ := http.NewRequest(http.MethodGet, lr.url+path, nil)
				req.Host = tn.Slug + ".localhost:8080"
				req.Header.Set("Accept", "application/json")
				p := phase.Load()
				resp, err := c.Do(req)
				if err != nil {
					mu.Lock()
					if len(failures) < 10 {
						failures = append(failures, err.Error())
					}
					statuses[0]++
					mu.Unlock()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode == http.StatusOK {
					servedIn[p].Add(1)
				}
			}
		}()
	}

	third := *killLoad / 3
	time.Sleep(third)
	victim := web[0].ID
	if err := lr.D.Kill(ctx, victim, "KILL"); err != nil {
		t.Fatalf("kill a replica: %v", err)
	}
	phase.Store(1)
	time.Sleep(third)
	// The reconciler may have started it again already: a second start of
	// a running container is no error.
	if err := lr.D.Start(ctx, victim); err != nil {
		t.Fatalf("start the killed replica again: %v", err)
	}
	phase.Store(2)
	time.Sleep(*killLoad - 2*third)
	stop.Store(true)
	wg.Wait()

	t.Logf("%d connections for %s, replica killed after %s and started after %s: statuses %v, served before/while killed/after %d/%d/%d",
		conns, *killLoad, third, 2*third, statuses, servedIn[0].Load(), servedIn[1].Load(), servedIn[2].Load())
	for code, n := range statuses {
		if code != http.StatusOK {
			t.Errorf("%d requests answered %d (0: no answer); first failures: %v", n, code, failures)
		}
	}
	for i, what := range []string{"before the kill", "while a replica was down", "after it started again"} {
		if servedIn[i].Load() == 0 {
			t.Errorf("no request served %s", what)
		}
	}
	// Both replicas serve again once the killed one is back.
	lr.waitBothServe(t, tn.Slug, web)
}

// waitBothServe waits until both replicas run and are routed again, then
// sends a request through the router.
func (lr *liveRouter) waitBothServe(t *testing.T, slug string, web []docker.Container) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, _ := lr.routes.Get(slug)
		up := 0
		for _, c := range web {
			got, err := lr.D.Inspect(ctx, c.ID)
			if err == nil && got.Running {
				up++
			}
		}
		if up == len(web) && len(r.Backends) == len(web) {
			if code, body := lr.request(t, slug, "/healthz", "application/json"); code == http.StatusOK {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("after the restart: %d %s", code, body)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas running %d/%d, routed %d", up, len(web), len(r.Backends))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
