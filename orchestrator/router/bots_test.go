package router

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// TestBotsNeverWakeASleepingTenant: crawlers, monitors, HEAD and
// robots.txt get the router's own answer and start nothing; a browser
// still wakes the tenant.
func TestBotsNeverWakeASleepingTenant(t *testing.T) {
	f := newRouterFixture(t, RouterConfig{BotAgents: []string{"AcmeWatch"}})
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	for _, state := range []string{domain.StatePassivated, domain.StatePaused, domain.StateFailed} {
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", Title: "Acme", State: state})
		for _, ua := range []string{
			"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
			"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
			"acmewatch/1 (the operator's own monitor)",
		} {
			resp := f.do(t, http.MethodGet, "acme.example.test", "/", map[string]string{"User-Agent": ua, "Accept": "text/html"}, nil)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "asleep") {
				t.Errorf("%s, %q: %d %q", state, ua, resp.StatusCode, body)
			}
		}
		resp := f.do(t, http.MethodHead, "acme.example.test", "/", map[string]string{"User-Agent": "Mozilla/5.0"}, nil)
		readAll(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: HEAD: %d", state, resp.StatusCode)
		}
		resp = f.do(t, http.MethodGet, "acme.example.test", "/robots.txt", map[string]string{"User-Agent": "Mozilla/5.0"}, nil)
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || body != robotsTxt {
			t.Errorf("%s: robots.txt: %d %q", state, resp.StatusCode, body)
		}
	}
	if n := f.act.calls.Load(); n != 0 {
		t.Fatalf("bot traffic started the tenant %d times", n)
	}
	// The router ends a request after its answer is sent: a tenant with
	// one in flight is idle for zero, whoever sent it.
	waitFor(t, 5*time.Second, "no request in flight", func() bool { return f.activity.InFlight("t1") == 0 })
	if idle := f.activity.Idle("t1", time.Now(), time.Now().Add(-time.Hour)); idle < 59*time.Minute {
		t.Errorf("bot traffic counted as the tenant's activity: idle %v", idle)
	}
	code, e := f.getEcho(t, "acme.example.test", map[string]string{"Accept": "application/json", "User-Agent": "curl/8.5"})
	if code != http.StatusOK || e.Name != "acme" || f.act.calls.Load() != 1 {
		t.Fatalf("a real client: %d %+v after %d activations", code, e, f.act.calls.Load())
	}
}

// TestBotsOnARunningTenantAreServedButNotActivity: a crawler reaches a
// running app, and the tenant stays as idle as it was.
func TestBotsOnARunningTenantAreServedButNotActivity(t *testing.T) {
	forEachFront(t, RouterConfig{}, func(t *testing.T, f *routerFixture) {
		f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{addr(newBackend(t, "acme"))}})
		since := time.Now().Add(-time.Hour)
		before := f.activity.Idle("t1", time.Now(), since)
		code, e := f.getEcho(t, "acme.example.test", map[string]string{"User-Agent": "Googlebot/2.1"})
		if code != http.StatusOK || e.Name != "acme" {
			t.Fatalf("crawler on a running tenant: %d %+v", code, e)
		}
		waitFor(t, 5*time.Second, "no request in flight", func() bool { return f.activity.InFlight("t1") == 0 })
		if after := f.activity.Idle("t1", time.Now(), since); after < before {
			t.Errorf("idle %v before the crawler, %v after: it counted as activity", before, after)
		}
		code, _ = f.getEcho(t, "acme.example.test", map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"})
		waitFor(t, 5*time.Second, "no request in flight", func() bool { return f.activity.InFlight("t1") == 0 })
		if after := f.activity.Idle("t1", time.Now(), since); code != http.StatusOK || after > time.Second {
			t.Errorf("a browser's request left the tenant idle for %v (%d)", after, code)
		}
	})
}

func TestBotMatcher(t *testing.T) {
	m := newBotMatcher([]string{" MyProbe "})
	for ua, want := range map[string]bool{
		"Mozilla/5.0 (compatible; Googlebot/2.1)": true,
		"facebookexternalhit/1.1":                 true,
		"Pingdom.com_bot_version_1.4":             true,
		"myprobe/2":                               true,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/140.0 Safari": false,
		"curl/8.5.0": false,
		"":           false,
	} {
		if got := m.isBot(ua); got != want {
			t.Errorf("isBot(%q) = %v, want %v", ua, got, want)
		}
	}
}

// wakeLog records what each activation says woke the tenant.
type wakeLog struct {
	mu sync.Mutex
	by []string
}

func (l *wakeLog) RecordActivation(_ context.Context, _ string, _ time.Time, _ time.Duration, by string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by = append(l.by, by)
	return nil
}

func (l *wakeLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.by...)
}

// TestActivationRecordsWhatWokeTheTenant: the request that started the
// activation is recorded, without its query.
func TestActivationRecordsWhatWokeTheTenant(t *testing.T) {
	log := &wakeLog{}
	f := newRouterFixture(t, RouterConfig{Activations: log})
	f.act.backends = []string{addr(newBackend(t, "acme"))}
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StatePassivated})
	resp := f.do(t, http.MethodGet, "acme.example.test", "/docs?token=secret", map[string]string{"User-Agent": "curl/8.5.0", "Accept": "application/json"}, nil)
	readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "the activation recorded", func() bool { return len(log.list()) == 1 })
	if got := log.list()[0]; got != "a client: GET /docs (curl/8.5.0)" {
		t.Errorf("woken by %q", got)
	}
}

// BenchmarkIsBot is the cost the bot check adds to a browser's request.
func BenchmarkIsBot(b *testing.B) {
	m := newBotMatcher(nil)
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
	for b.Loop() {
		m.isBot(ua)
	}
}
