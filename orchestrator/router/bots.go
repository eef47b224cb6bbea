package router

import (
	"net/http"
	"strings"
	"sync"
)

// DefaultBotAgents are the pieces of User-Agent headers, matched without
// regard to case, of the crawlers, link previewers and uptime monitors that
// never wake a sleeping tenant and never count as its activity. Most
// crawlers name themselves "…bot/<version>"; the rest are listed by name.
// The operator adds more with RouterConfig.BotAgents (serve --bot-agents).
var DefaultBotAgents = []string{
	"bot/", "bot;", "crawler", "spider", "googlebot", "bingbot", "slurp", "duckduckbot", "baiduspider",
	"yandex", "applebot", "facebookexternalhit", "bytespider", "gptbot", "ccbot", "claudebot",
	"uptimerobot", "better uptime bot", "pingdom", "statuscake", "site24x7", "betteruptime", "uptime-kuma", "freshping",
	"newrelicpinger", "datadogsynthetics", "checkly", "hetrixtools", "nodeping", "monitis",
}

// robotsTxt is what a sleeping tenant's /robots.txt says: it cannot ask
// its app, and waking it for a crawler is what this file is for.
const robotsTxt = "User-agent: *\nDisallow: /\n"

// botMatcher tells crawlers and monitors from people and API clients.
type botMatcher struct {
	agents []string
	cache  *uaCache
}

// uaCache remembers the verdict on the User-Agents seen, up to
// uaCacheMax of them: a few browsers and clients send most requests, and
// a lookup costs less than matching every piece.
type uaCache struct {
	mu sync.RWMutex
	m  map[string]bool // User-Agent -> bot
}

const uaCacheMax = 4096

func newBotMatcher(extra []string) botMatcher {
	m := botMatcher{cache: &uaCache{m: make(map[string]bool)}}
	for _, a := range append(append([]string{}, DefaultBotAgents...), extra...) {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			m.agents = append(m.agents, a)
		}
	}
	return m
}

// isBot reports a User-Agent of the list.
func (m botMatcher) isBot(ua string) bool {
	if ua == "" {
		return false
	}
	if m.cache == nil {
		return m.match(ua)
	}
	m.cache.mu.RLock()
	bot, ok := m.cache.m[ua]
	m.cache.mu.RUnlock()
	if ok {
		return bot
	}
	bot = m.match(ua)
	m.cache.mu.Lock()
	if len(m.cache.m) < uaCacheMax {
		m.cache.m[ua] = bot
	}
	m.cache.mu.Unlock()
	return bot
}

// isBotAgent is isBot of a User-Agent's bytes: a verdict in the cache is
// found without a copy of them.
func (m botMatcher) isBotAgent(ua []byte) bool {
	if m.cache != nil && len(ua) > 0 {
		m.cache.mu.RLock()
		bot, ok := m.cache.m[string(ua)]
		m.cache.mu.RUnlock()
		if ok {
			return bot
		}
	}
	return m.isBot(string(ua))
}

// match looks for the pieces in a User-Agent.
func (m botMatcher) match(ua string) bool {
	ua = strings.ToLower(ua)
	for _, a := range m.agents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}

// quiet reports a request that must not wake a tenant nor keep it awake:
// a crawler's or monitor's, a HEAD (what uptime checks send), or
// robots.txt.
func (m botMatcher) quiet(r *http.Request) bool {
	return r.Method == http.MethodHead || r.URL.Path == "/robots.txt" || m.isBot(r.UserAgent())
}

// asleep answers a quiet request for a tenant that a request would start
// (passivated, paused, failed, or running without a backend), starting
// nothing: robots.txt disallows everything, anything else is a
// 503 to retry much later.
func (rt *Router) asleep(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(robotsTxt))
		}
		return
	}
	w.Header().Set("Retry-After", "3600")
	w.Header().Set("Cache-Control", "no-store")
	rt.cfg.Pages.Error(w, r, http.StatusServiceUnavailable, "This app is asleep",
		"The app is asleep and starts when someone opens it in a browser.")
}

// wokenBy says, for the tenant's wake facts, which request woke it: a
// browser or another client, the method and path (never the query, which
// may carry secrets) and the first word of its User-Agent.
func wokenBy(r *http.Request) string {
	return describeWaker(isNavigation(r), r.Method, r.URL.Path, r.UserAgent())
}

// describeWaker is wokenBy of a request's parts.
func describeWaker(navigation bool, method, path, userAgent string) string {
	who := "a client"
	if navigation {
		who = "a browser"
	}
	if len(path) > 80 {
		path = path[:80] + "…"
	}
	agent, _, _ := strings.Cut(userAgent, " ")
	if len(agent) > 40 {
		agent = agent[:40]
	}
	if agent == "" {
		agent = "no User-Agent"
	}
	return who + ": " + method + " " + path + " (" + agent + ")"
}
