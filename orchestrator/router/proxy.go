package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/route"
)

// proxy forwards requests to a tenant's backends: a ReverseProxy whose
// transport picks the backend (round robin over the ready replicas) and
// takes out a replica that fails to answer a dial.
type proxy struct {
	rt        *Router
	rp        *httputil.ReverseProxy
	transport *http.Transport
	fast      *fastTransport
	pools     *pools
	strip     map[string]bool
}

// proxied is what one request carries through the ReverseProxy.
type proxied struct {
	route route.Route
	// mayActivate: when every backend fails to answer a dial, start the
	// tenant (its containers may have been stopped behind our back, by a
	// restart of the host or of the engine) rather than fail.
	mayActivate bool
	body        *heldBody
	gate        flushGate
}

type proxiedKey struct{}

// errBackendsDown says that no backend of a route answered a dial.
var errBackendsDown = errors.New("no backend answered")

func newProxy(rt *Router) *proxy {
	cfg := rt.cfg
	dial := ready.Bounded(cfg.Dial, cfg.DialTimeout, 30*time.Second)
	tr := &http.Transport{
		Proxy:                 nil, // container addresses are never sent through a proxy
		DialContext:           dial,
		MaxIdleConns:          4 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// Backends speak HTTP/1.1; compression is the app's business.
		DisableCompression: true,
	}
	// Only the fast transport's connections get the user timeout: they
	// carry bodyless requests, so a backend slow to read an upload (a
	// closed window) never trips it.
	fast := newFastTransport(withUserTimeout(dial), cfg.ResponseHeaderTimeout, cfg.MaxIdleConnsPerHost)
	p := &proxy{rt: rt, transport: tr, fast: fast, pools: newPools(fast.closeIdle), strip: make(map[string]bool)}
	for _, name := range cfg.StripCookies {
		p.strip[name] = true
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:       p.rewrite,
		Transport:     p,
		FlushInterval: -1,
		BufferPool:    &bufferPool{},
		ErrorHandler:  p.errorHandler,
		ErrorLog:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return p
}

// serve proxies one request to a route's backends.
func (p *proxy) serve(w http.ResponseWriter, r *http.Request, rte route.Route, mayActivate bool) {
	pr := &proxied{route: rte, mayActivate: mayActivate}
	if direct(r) {
		p.serveDirect(w, r, pr)
		return
	}
	pr.gate.ResponseWriter = w
	p.rp.ServeHTTP(&pr.gate, r.WithContext(context.WithValue(r.Context(), proxiedKey{}, pr)))
}

// rewrite builds the outgoing request. The ReverseProxy has already removed
// the client's Forwarded and X-Forwarded-* headers: ours replace them.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	st := pr.Out.Context().Value(proxiedKey{}).(*proxied)
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = st.route.Slug // replaced by the backend in RoundTrip
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	if p.rt.cfg.TLS {
		pr.Out.Header.Set("X-Forwarded-Proto", "https")
	}
	stripCookies(pr.Out.Header, p.strip)
	if pr.Out.Body != nil {
		// The transport closes the body of a request whose dial failed;
		// holding it lets a request that sent nothing go to another backend.
		st.body = &heldBody{r: pr.Out.Body}
		pr.Out.Body = st.body
	}
}

// RoundTrip sends a request to one backend after another until one accepts
// the connection; a backend that refuses is taken out until it answers its
// readiness probe again. A request that fails on a backend after the dial
// (the replica was killed or restarted under it) goes to another when it
// can be sent again: an idempotent method, a body empty or not yet read,
// and (since this is the transport) nothing written to the client yet.
func (p *proxy) RoundTrip(req *http.Request) (*http.Response, error) {
	st := req.Context().Value(proxiedKey{}).(*proxied)
	var rt http.RoundTripper = p.transport
	if handles(req) {
		rt = p.fast
	}
	return try(p, req.Context(), req.Method, st, func(addr string) (*http.Response, error) {
		req.URL.Host = addr
		return rt.RoundTrip(req)
	})
}

// try sends a request with send to one backend of its route after another,
// as RoundTrip says; T is what an answer is read as.
func try[T any](p *proxy, ctx context.Context, method string, st *proxied, send func(addr string) (T, error)) (T, error) {
	var none T
	pool := p.pools.get(st.route)
	var tried uint64 // bit i: backend i already tried by this request
	var lastErr, exchangeErr error
	for {
		i, addr, ok := pool.pick(tried)
		if !ok {
			break
		}
		tried |= 1 << uint(i)
		resp, err := send(addr)
		if err == nil {
			return resp, nil
		}
		switch {
		case isDialError(err):
			lastErr = err
			pool.markDown(p.rt, i, err)
			if st.body != nil && st.body.read {
				return none, err
			}
		case replayable(ctx, method, st, err):
			exchangeErr = err
		default:
			return none, err
		}
	}
	if exchangeErr != nil {
		// Some backend took the connection: the tenant is up, an answer failed.
		return none, exchangeErr
	}
	if lastErr == nil {
		lastErr = errBackendsDown
	}
	return none, &backendsDownError{err: lastErr}
}

// replayable reports whether a request that failed on one backend after
// the dial may be sent to another: never once the client has gone, after a
// timeout (the backend may still be working on it) or for a method that
// is not idempotent (a POST is never sent twice), and only while no byte
// of its body has been read.
func replayable(ctx context.Context, method string, st *proxied, err error) bool {
	if ctx.Err() != nil || isTimeout(err) {
		return false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
	default:
		return false
	}
	return st.body == nil || !st.body.read
}

// backendsDownError says every backend failed to answer a dial.
type backendsDownError struct{ err error }

func (e *backendsDownError) Error() string { return "no backend answered: " + e.err.Error() }
func (e *backendsDownError) Unwrap() error { return e.err }

func (p *proxy) errorHandler(_ http.ResponseWriter, r *http.Request, err error) {
	st := r.Context().Value(proxiedKey{}).(*proxied)
	p.failed(st.gate.ResponseWriter, r, st, err)
}

// failed answers a request whose backends gave no answer.
func (p *proxy) failed(w http.ResponseWriter, r *http.Request, st *proxied, err error) {
	pages := p.rt.cfg.Pages
	var down *backendsDownError
	switch {
	case errors.As(err, &down) && st.mayActivate && (st.body == nil || !st.body.read):
		cur, ok := p.rt.routes.Get(st.route.Slug)
		switch {
		case !ok:
			p.rt.notFound(w, r)
		case cur.State == domain.StateRunning && len(cur.Backends) > 0 && !sameBackends(st.route, cur):
			// The table changed while this request was on its way (an
			// activation ended): the new backends are fresh.
			p.serve(w, r, cur, false)
		default:
			// Routed as running but nothing answers: the containers were
			// stopped behind our back. Start them like a sleeping tenant's.
			p.rt.logger.Info("running tenant not answering, activating", slog.String("tenant", cur.Slug))
			p.rt.activateThenServe(w, r, cur)
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	case isTimeout(err):
		p.rt.logger.Warn("backend timed out", slog.String("tenant", st.route.Slug), slog.Any("err", err))
		pages.Error(w, r, http.StatusGatewayTimeout, "The app took too long to answer",
			"The app did not answer in time. Try again in a moment.")
	default:
		p.rt.logger.Warn("proxy error", slog.String("tenant", st.route.Slug), slog.Any("err", err))
		pages.Error(w, r, http.StatusBadGateway, "The app is not answering",
			"The app could not be reached. It may be restarting; try again in a moment.")
	}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// heldBody is a request body the transport may close without closing the
// client's; read says whether any of it was sent.
type heldBody struct {
	r    io.ReadCloser
	read bool
}

func (b *heldBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.read = true
	}
	return n, err
}

// Close leaves the client's body open: the server closes it when the handler returns.
func (b *heldBody) Close() error { return nil }

// stripCookies removes the named cookies from the Cookie headers, keeping
// the others as they were sent.
func stripCookies(h http.Header, names map[string]bool) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	if kept := cookieLines(lines, names); len(kept) > 0 {
		h["Cookie"] = kept
	} else {
		h.Del("Cookie")
	}
}

// cookieLines returns the Cookie header lines to send on: lines as they
// are when they name none of the cookies, else one line of the others
// (none when no other is left).
func cookieLines(lines []string, names map[string]bool) []string {
	var kept []string
	changed := false
	for _, line := range lines {
		parts := strings.Split(line, ";")
		out := parts[:0]
		for _, part := range parts {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if names[strings.TrimSpace(name)] {
				changed = true
				continue
			}
			if part != "" {
				out = append(out, part)
			}
		}
		if len(out) > 0 {
			kept = append(kept, strings.Join(out, "; "))
		}
	}
	if !changed {
		return lines
	}
	if len(kept) == 0 {
		return nil
	}
	return []string{strings.Join(kept, "; ")}
}

// bufferPool reuses the 32 KiB copy buffers of the ReverseProxy.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.pool.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32*1024)
}

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

// flushGate passes the proxy's flushes on (FlushInterval -1: every write
// reaches the client at once) except the one that would send a response's
// headers alone when its length is known: the headers then leave with the
// first bytes of the body, in one write instead of two. Streams (no
// length, server-sent events) get their headers at once.
type flushGate struct {
	http.ResponseWriter
	pending bool // written since the last flush
	stream  bool
}

// WriteHeader notes whether the response is a stream.
func (g *flushGate) WriteHeader(code int) {
	if code >= 200 && g.Header().Get("Content-Length") == "" {
		g.stream = true
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *flushGate) Write(b []byte) (int, error) {
	g.pending = true
	return g.ResponseWriter.Write(b)
}

// FlushError flushes unless only the headers of a sized response are waiting.
func (g *flushGate) FlushError() error {
	if !g.pending && !g.stream {
		return nil
	}
	g.pending = false
	return http.NewResponseController(g.ResponseWriter).Flush()
}

// Flush implements http.Flusher.
func (g *flushGate) Flush() { _ = g.FlushError() }

// Unwrap gives the ResponseController (hijacking for WebSockets, deadlines)
// the server's writer.
func (g *flushGate) Unwrap() http.ResponseWriter { return g.ResponseWriter }
