package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// botAgents are the crawlers and monitors the bench sends, from the
// router's shipped list.
var botAgents = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"UptimeRobot/2.0",
	"Pingdom.com_bot_version_1.4",
	"Better Uptime Bot Mozilla/5.0",
}

// botResult is what crawler traffic on sleeping tenants did.
type botResult struct {
	tenants, requests, answered int
	activations                 int64
	engineStarts                int
	took                        time.Duration
}

// bots sends crawler and monitor requests, HEAD requests and robots.txt
// across sleeping tenants: the fixture's own (passivated on the engine)
// and more routes of sleeping tenants beside it, and counts what started.
func (f *fixture) bots(ctx context.Context, tenants, requests int) (botResult, error) {
	fmt.Fprintf(os.Stderr, "bots: %d crawler requests across %d sleeping tenants...\n", requests, tenants)
	res := botResult{tenants: tenants, requests: requests}
	if err := f.rec.Passivate(ctx, f.tenant.ID, "bench"); err != nil {
		return res, err
	}
	hosts := []string{f.host}
	for i := 1; i < tenants; i++ {
		slug := fmt.Sprintf("bot%s%03d", f.id, i)
		f.routes.Set(route.Route{TenantID: "bench-bot-" + slug, Slug: slug, Title: slug, State: domain.StatePassivated})
		defer f.routes.Delete(slug)
		hosts = append(hosts, slug+".localhost")
	}
	ectx, cancel := context.WithCancel(ctx)
	evs, _ := f.docker.Events(ectx, f.labels)
	var starts atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range evs {
			if ev.Type == "container" && ev.Action == "start" {
				starts.Add(1)
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // the event stream is open
	before := f.act.calls.Load()
	c := client(32)
	var answered atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= requests || ctx.Err() != nil {
					return
				}
				if f.botRequest(ctx, c, hosts[i%len(hosts)], i) {
					answered.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.took = time.Since(start)
	time.Sleep(500 * time.Millisecond) // late events arrive
	cancel()
	<-done
	res.answered = int(answered.Load())
	res.activations = f.act.calls.Load() - before
	res.engineStarts = int(starts.Load())
	return res, nil
}

// botRequest sends the i-th bot request: a crawler's GET, an uptime
// monitor's HEAD, or robots.txt; true when the router answered it without
// starting anything (any status below 500 but the asleep answer's 503).
func (f *fixture) botRequest(ctx context.Context, c *http.Client, host string, i int) bool {
	method, path := http.MethodGet, "/docs"
	switch i % 4 {
	case 1:
		method = http.MethodHead
		path = "/"
	case 2:
		path = "/robots.txt"
	}
	req, err := http.NewRequestWithContext(ctx, method, f.base+path, nil)
	if err != nil {
		return false
	}
	req.Host = host
	req.Header.Set("User-Agent", botAgents[i%len(botAgents)])
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 500 || resp.StatusCode == http.StatusServiceUnavailable
}
