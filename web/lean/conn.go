package lean

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// A connection is idle between requests (Shutdown may close it), active
// while it reads or answers one, and closed once Shutdown took it.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// bufSize is the size of a connection's read and write buffers: a request
// head longer than that goes to net/http, which takes up to its
// MaxHeaderBytes.
const bufSize = 4 << 10

// aLongTimeAgo is a deadline that fails a pending read at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is one client connection served by the lean loop.
type conn struct {
	srv    *Server
	c      net.Conn
	cr     connReader
	br     *bufio.Reader
	bw     *bufio.Writer
	remote string
	state  atomic.Int32
	served int    // requests answered on this connection
	body   []byte // the buffer of an answer's body before its head is sent
	// deadlineAt is when the idle read deadline was last set (zero: set
	// it before the next wait); it is renewed at most once a second.
	deadlineAt time.Time

	// The watch for the client leaving during a request. mu guards the
	// fields below and cr while a request runs; the timer starts watch.
	mu        sync.Mutex
	cond      sync.Cond
	timer     *time.Timer
	inRequest bool
	watching  bool
	gone      bool // the client closed its side during a request
	cancel    func()
}

// connReader reads the connection, first giving back the byte the watch
// read while a request ran (the start of the next request).
type connReader struct {
	c       net.Conn
	pending byte
	has     bool
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.has && len(p) > 0 {
		p[0], r.has = r.pending, false
		return 1, nil
	}
	return r.c.Read(p)
}

func newConn(s *Server, c net.Conn) *conn {
	cc := &conn{srv: s, c: c, remote: c.RemoteAddr().String()}
	cc.cr.c = c
	cc.br = bufio.NewReaderSize(&cc.cr, bufSize)
	cc.bw = bufio.NewWriterSize(c, bufSize)
	cc.cond.L = &cc.mu
	cc.timer = time.AfterFunc(time.Hour, cc.watch)
	cc.timer.Stop()
	return cc
}

// serve answers the connection's requests until it closes, fails, or a
// request goes to the Fallback with the connection.
func (c *conn) serve() {
	handed := false
	defer func() {
		if !handed {
			c.c.Close()
		}
		c.srv.track(c, false)
	}()
	for {
		if !c.wait() {
			return
		}
		n, ok, err := c.head()
		if err != nil {
			return
		}
		handOff, keep := !ok, false
		if ok {
			handOff, keep = c.serveHead(n)
		}
		if handOff {
			// Nothing consumed: the Fallback reads the request from the start.
			_ = c.c.SetReadDeadline(time.Time{})
			handed = true
			c.srv.handoff.give(&handedConn{Conn: c.c, r: c.br})
			return
		}
		if !keep {
			return
		}
		c.state.Store(stateIdle)
		if c.srv.shutting.Load() {
			return
		}
	}
}

// wait waits for the first byte of the next request; false when the
// connection closed, timed out or was taken by Shutdown.
func (c *conn) wait() bool {
	if c.br.Buffered() == 0 {
		now := time.Now()
		switch {
		case c.served == 0 && c.deadlineAt.IsZero():
			// The first request has the header timeout from the accept on.
			_ = c.c.SetReadDeadline(now.Add(c.srv.headerTimeout()))
			c.deadlineAt = now
		case c.served > 0 && (c.deadlineAt.IsZero() || now.Sub(c.deadlineAt) > time.Second):
			_ = c.c.SetReadDeadline(now.Add(c.srv.idleTimeout()))
			c.deadlineAt = now
		}
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	return c.state.CompareAndSwap(stateIdle, stateActive)
}

// head returns the length of the request head at the start of the
// buffer, reading until it is there; ok is false when it does not fit.
func (c *conn) head() (n int, ok bool, err error) {
	timed := false
	for {
		b, _ := c.br.Peek(c.br.Buffered())
		if n := headEnd(b); n > 0 {
			return n, true, nil
		}
		if len(b) >= bufSize {
			return 0, false, nil
		}
		if !timed {
			// The rest of the head has the header timeout.
			_ = c.c.SetReadDeadline(time.Now().Add(c.srv.headerTimeout()))
			c.deadlineAt = time.Time{}
			timed = true
		}
		if _, err := c.br.Peek(len(b) + 1); err != nil {
			return 0, false, err
		}
	}
}

// headEnd returns the length of a request head that ends with an empty
// line in b (CRLF or a bare LF, as net/http accepts), or 0.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
}

// parser reads one request head from a byte slice.
type parser struct {
	src bytes.Reader
	br  *bufio.Reader
}

var parsers = sync.Pool{New: func() any { return &parser{br: bufio.NewReaderSize(nil, bufSize)} }}

// parse reads the request whose head is the first n buffered bytes,
// without consuming them; false for a request the lean loop never serves
// (net/http answers it, a 400 for a malformed one): one with a body, an
// HTTP/1.1 one without a Host, a bad header.
func (c *conn) parse(n int) (*http.Request, bool) {
	b, _ := c.br.Peek(n)
	p := parsers.Get().(*parser)
	p.src.Reset(b)
	p.br.Reset(&p.src)
	req, err := http.ReadRequest(p.br)
	p.src.Reset(nil)
	p.br.Reset(nil)
	parsers.Put(p)
	if err != nil || req.ProtoMajor != 1 || req.ContentLength != 0 || len(req.TransferEncoding) > 0 {
		return nil, false
	}
	// ReadRequest refuses two Host fields and takes this one out of the
	// header; an absolute request URI's host comes first, as net/http has it.
	if req.Host == "" || !httpguts.ValidHostHeader(req.Host) {
		return nil, false
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, false
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, false
			}
		}
	}
	req.RemoteAddr = c.remote
	return req, true
}

// serveHead answers the request whose head is the first n buffered
// bytes: Fast first, then the handler if Take accepts the parsed request.
// handOff says that the request goes to the Fallback (nothing consumed),
// keep that the connection may serve another request.
func (c *conn) serveHead(n int) (handOff, keep bool) {
	rc := &requestContext{}
	defer rc.cancel()
	c.startWatch(rc.cancel, n)
	var ctx context.Context = rc
	if fast := c.srv.Fast; fast != nil {
		head, _ := c.br.Peek(n)
		served, keep, next := fast(ctx, head, c.remote, c.bw)
		if served {
			c.stopWatch()
			_, _ = c.br.Discard(n)
			c.served++
			return false, keep && !c.gone
		}
		ctx = next
	}
	req, ok := c.parse(n)
	if !ok || !c.srv.Take(req) {
		c.stopWatch()
		return true, false
	}
	_, _ = c.br.Discard(n)
	req = req.WithContext(ctx)
	w := newResponse(c, req)
	ok = c.run(w, req)
	c.stopWatch()
	c.served++
	if !ok {
		_ = c.bw.Flush() // what was written reaches the client, cut
		return false, false
	}
	return false, w.finish() && !c.gone
}

// run calls the handler; false when it panicked (logged unless the panic
// is http.ErrAbortHandler, as net/http does).
func (c *conn) run(w *response, req *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			if v != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logf("lean: panic serving %s: %v\n%s", c.remote, v, buf)
			}
		}
	}()
	c.srv.Handler.ServeHTTP(w, req)
	return true
}

// startWatch arms the watch for a request whose head is the first n
// buffered bytes: after WatchAfter, a read on the connection notices the
// client leaving and cancels the request.
func (c *conn) startWatch(cancel func(), n int) {
	c.mu.Lock()
	c.inRequest, c.cancel = true, cancel
	c.mu.Unlock()
	if c.br.Buffered() == n {
		// Bytes of a pipelined request are waiting otherwise: nothing to watch.
		c.timer.Reset(c.srv.watchAfter())
	}
}

// watch runs on the timer's goroutine while a request runs.
func (c *conn) watch() {
	c.mu.Lock()
	if !c.inRequest {
		c.mu.Unlock()
		return
	}
	// No deadline while watching (a held request may wait a minute); the
	// idle one is set again before the next request.
	_ = c.c.SetReadDeadline(time.Time{})
	c.deadlineAt = time.Time{}
	c.watching = true
	c.mu.Unlock()
	var b [1]byte
	n, err := c.c.Read(b[:])
	c.mu.Lock()
	if n == 1 {
		c.cr.pending, c.cr.has = b[0], true
	}
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		c.gone = true
		if c.inRequest {
			c.cancel()
		}
	}
	c.watching = false
	c.cond.Broadcast()
	c.mu.Unlock()
}

// stopWatch ends a request's watch, failing its pending read.
func (c *conn) stopWatch() {
	if c.timer.Stop() {
		c.mu.Lock()
		c.inRequest = false
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	c.inRequest = false
	for c.watching {
		_ = c.c.SetReadDeadline(aLongTimeAgo)
		c.deadlineAt = time.Time{}
		c.cond.Wait()
	}
	c.mu.Unlock()
}

// handedConn is a connection given to the Fallback with what the lean
// loop read of it.
type handedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *handedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (s *Server) headerTimeout() time.Duration {
	if d := s.Fallback.ReadHeaderTimeout; d > 0 {
		return d
	}
	if d := s.Fallback.ReadTimeout; d > 0 {
		return d
	}
	return 10 * time.Second
}

func (s *Server) idleTimeout() time.Duration {
	if d := s.Fallback.IdleTimeout; d > 0 {
		return d
	}
	return s.headerTimeout()
}

func (s *Server) watchAfter() time.Duration {
	if s.WatchAfter > 0 {
		return s.WatchAfter
	}
	return 200 * time.Millisecond
}
