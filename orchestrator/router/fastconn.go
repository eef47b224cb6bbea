package router

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// fastTransport carries the requests that make most of a tenant's traffic,
// GET and HEAD without a body nor an upgrade, over keep-alive connections
// of its own: the request is written and the answer's headers read in the
// goroutine of the request itself. The standard Transport hands every
// request to a writer and a reader goroutine per connection and back, and
// on a loaded host those hand-offs cost more than the proxying. Everything
// else (bodies, WebSockets, other methods) goes through the standard
// Transport.
type fastTransport struct {
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout time.Duration
	idleTimeout   time.Duration
	maxIdle       int // per backend

	mu   sync.Mutex
	idle map[string][]*fastConn // by backend address, most recent last
	// waiters are the requests dialing a backend, oldest first: a
	// connection given back goes to the first rather than to the pool, so
	// that no request waits for a slow dial (a backlog full under load)
	// while a connection is free.
	waiters map[string][]chan *fastConn
	closed  bool
}

// aLongTimeAgo is a deadline that fails pending reads and writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// errUnexpectedUpgrade refuses a 101 answer to a request that asked for no upgrade.
var errUnexpectedUpgrade = errors.New("backend switched protocols without an upgrade request")

func newFastTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), headerTimeout time.Duration, maxIdle int) *fastTransport {
	return &fastTransport{dial: dial, headerTimeout: headerTimeout, idleTimeout: 90 * time.Second, maxIdle: maxIdle,
		idle: make(map[string][]*fastConn), waiters: make(map[string][]chan *fastConn)}
}

// handles reports whether a request may go through the fast transport.
func handles(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0 &&
		req.Header.Get("Upgrade") == "" && len(req.TransferEncoding) == 0
}

// RoundTrip sends req to req.URL.Host. A kept-alive connection the backend
// closed while it was idle fails before any byte of an answer: the request
// is then sent again on a new connection, as the standard Transport does.
func (t *fastTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.roundTrip(req.Context(), req.URL.Host, req, req.Write)
}

// roundTrip sends a request to addr, written by write; req is the request
// the answer is read for (its method).
func (t *fastTransport) roundTrip(ctx context.Context, addr string, req *http.Request, write func(w io.Writer) error) (*http.Response, error) {
	c, stop, err := t.rawRoundTrip(ctx, addr, write)
	if err != nil {
		return nil, err
	}
	resp, err := t.readResponse(ctx, c, req, stop)
	if err != nil {
		c.conn.Close()
		return nil, err
	}
	return resp, nil
}

// rawRoundTrip sends a request to addr, written by write, and returns the
// connection once the first byte of the answer is there, with the stop of
// the watch that fails the connection when ctx ends.
func (t *fastTransport) rawRoundTrip(ctx context.Context, addr string, write func(w io.Writer) error) (*fastConn, func() bool, error) {
	for {
		c, reused, err := t.get(ctx, addr)
		if err != nil {
			return nil, nil, err
		}
		stop, stale, err := t.send(ctx, c, write)
		if err == nil {
			return c, stop, nil
		}
		c.conn.Close()
		if !(reused && stale) || ctx.Err() != nil {
			return nil, nil, err
		}
	}
}

// send writes the request and waits for the first byte of the answer,
// within the header timeout; stale says that the connection failed before
// any byte of an answer came.
func (t *fastTransport) send(ctx context.Context, c *fastConn, write func(w io.Writer) error) (func() bool, bool, error) {
	c.attach()
	stop := afterFunc(ctx, c.abort)
	now := time.Now()
	var deadline time.Time
	if t.headerTimeout > 0 {
		deadline = now.Add(t.headerTimeout)
	}
	fail := func(stale bool, err error) (func() bool, bool, error) {
		stop()
		if cerr := ctx.Err(); cerr != nil {
			return nil, false, cerr
		}
		return nil, stale, err
	}
	if c.raw != nil && c.br.Buffered() == 0 && len(c.pr.pending) == 0 {
		if wrote, err := c.writeThenWait(ctx, write, now, deadline); err != nil {
			return fail(!wrote || lost(err), err)
		}
		return stop, false, nil
	}
	_ = c.conn.SetDeadline(deadline)
	if err := write(c.bw); err != nil {
		return fail(true, err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(true, err)
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(lost(err), err)
	}
	return stop, false, nil
}

// afterFunc is context.AfterFunc, straight to the context's own AfterFunc
// when it has one (the lean loop's request context): the standard
// function adds a context of its own to every call.
func afterFunc(ctx context.Context, f func()) func() bool {
	if a, ok := ctx.(interface{ AfterFunc(func()) func() bool }); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// readResponse reads the answer's headers on a connection send wrote to.
func (t *fastTransport) readResponse(ctx context.Context, c *fastConn, req *http.Request, stop func() bool) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		stop()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	var resp *http.Response
	for {
		var err error
		if resp, err = http.ReadResponse(c.br, req); err != nil {
			return fail(err)
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return fail(errUnexpectedUpgrade)
		}
		if resp.StatusCode >= 200 || resp.StatusCode < 100 {
			break
		}
		// An informational answer (103 Early Hints) before the final one.
	}
	_ = c.conn.SetDeadline(time.Time{})
	if ctx.Err() != nil {
		// Cancelled while the deadline was cleared: the AfterFunc's
		// deadline may be gone.
		return fail(ctx.Err())
	}
	resp.Body = &fastBody{rc: resp.Body, t: t, c: c, stop: stop, keep: !resp.Close, done: resp.Body == http.NoBody}
	return resp, nil
}

// get returns an idle connection to addr, else the first of a new one and
// one given back by another request.
func (t *fastTransport) get(ctx context.Context, addr string) (*fastConn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for cs := t.idle[addr]; len(cs) > 0; cs = t.idle[addr] {
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		t.idle[addr] = cs[:len(cs)-1]
		if now.Sub(c.idleAt) < t.idleTimeout {
			t.mu.Unlock()
			return c, true, nil
		}
		c.conn.Close()
	}
	handed := make(chan *fastConn, 1)
	t.waiters[addr] = append(t.waiters[addr], handed)
	t.mu.Unlock()
	type dialed struct {
		c   *fastConn
		err error
	}
	dc := make(chan dialed, 1)
	go func() {
		// The dial outlives a request that gives up: its connection
		// goes to the pool.
		conn, err := t.dial(context.WithoutCancel(ctx), "tcp", addr)
		if err != nil {
			dc <- dialed{err: err}
			return
		}
		dc <- dialed{c: newFastConn(conn, addr)}
	}()
	select {
	case c := <-handed:
		go func() {
			if d := <-dc; d.err == nil {
				t.put(d.c)
			}
		}()
		return c, true, nil
	case d := <-dc:
		t.unwait(addr, handed)
		return d.c, false, d.err
	case <-ctx.Done():
		t.unwait(addr, handed)
		go func() {
			if d := <-dc; d.err == nil {
				t.put(d.c)
			}
		}()
		return nil, false, ctx.Err()
	}
}

// unwait takes a request off the waiters; a connection handed to it
// meanwhile goes back.
func (t *fastTransport) unwait(addr string, handed chan *fastConn) {
	t.mu.Lock()
	ws := t.waiters[addr]
	for i, w := range ws {
		if w == handed {
			t.waiters[addr] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(t.waiters[addr]) == 0 {
		delete(t.waiters, addr)
	}
	t.mu.Unlock()
	// put hands a connection under the lock: it is in the channel now or never.
	select {
	case c := <-handed:
		t.put(c)
	default:
	}
}

// put gives a connection whose answer was read to its end to the first
// request waiting for one, or keeps it for the next.
func (t *fastTransport) put(c *fastConn) {
	c.detach()
	c.idleAt = time.Now()
	t.mu.Lock()
	if ws := t.waiters[c.addr]; len(ws) > 0 && !t.closed {
		ws[0] <- c
		if len(ws) == 1 {
			delete(t.waiters, c.addr)
		} else {
			t.waiters[c.addr] = ws[1:]
		}
		t.mu.Unlock()
		return
	}
	if t.closed || len(t.idle[c.addr]) >= t.maxIdle {
		t.mu.Unlock()
		c.conn.Close()
		return
	}
	t.idle[c.addr] = append(t.idle[c.addr], c)
	t.mu.Unlock()
}

// closeIdle closes the idle connections to the given backends (a tenant
// whose backends were replaced or removed).
func (t *fastTransport) closeIdle(addrs []string) {
	if len(addrs) == 0 {
		return
	}
	t.mu.Lock()
	var cs []*fastConn
	for _, a := range addrs {
		cs = append(cs, t.idle[a]...)
		delete(t.idle, a)
	}
	t.mu.Unlock()
	for _, c := range cs {
		c.conn.Close()
	}
}

// closeAllIdle closes every idle connection.
func (t *fastTransport) closeAllIdle() {
	t.mu.Lock()
	var addrs []string
	for a := range t.idle {
		addrs = append(addrs, a)
	}
	t.mu.Unlock()
	t.closeIdle(addrs)
}

// fastBody is an answer's body: read to its end and closed, it gives its
// connection back to the idle pool; closed before, it closes it.
type fastBody struct {
	rc     io.ReadCloser
	t      *fastTransport
	c      *fastConn
	stop   func() bool
	keep   bool // the backend keeps the connection open
	done   bool // read to its end
	closed bool
}

func (b *fastBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.done = true
	}
	return n, err
}

func (b *fastBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	// stop is false when the request's context ended and its AfterFunc
	// already failed the connection's deadline.
	if b.stop() && b.done && b.keep && b.c.br.Buffered() == 0 {
		_ = b.rc.Close()
		b.t.put(b.c)
		return nil
	}
	// Closed first: the body's Close would otherwise read what is left of
	// an answer (a stream without end) to reach the next one.
	err := b.c.conn.Close()
	_ = b.rc.Close()
	return err
}
