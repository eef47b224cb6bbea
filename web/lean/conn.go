package lean

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"

	"appfactory/sockio"
)

// A connection is idle between requests (Shutdown may close it), active
// while it answers one, and closed once Shutdown took it.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// bufSize is the size of a connection's read and write buffers: a request
// head longer than that goes to net/http, which takes up to its
// MaxHeaderBytes.
const bufSize = 4 << 10

// conn is one client connection served by the lean loop.
//
// The loop runs inside one raw read of the connection (syscall.RawConn's
// Read) for the connection's life: it reads what the client sent, answers
// every request whose head is complete, and then waits for the client to
// be readable again without trying a read first. A net.Conn's Read begins
// by forgetting the descriptor's last readiness, so it has to try a read
// (which finds nothing after an answer: the client has not sent its next
// request yet) before it may wait; inside one raw read nothing is
// forgotten, and bytes that came after the last read always wake the wait.
type conn struct {
	srv *Server
	c   net.Conn
	raw syscall.RawConn
	// buf and bw are from bufPool while the connection has a request in
	// them or in the making, nil while it waits with nothing buffered.
	buf    []byte // what was read: the request heads from r to w
	r, w   int
	full   bool // the last read filled buf: the client may have sent more
	bw     *bufio.Writer
	bufs   *connBufs
	out    io.Writer // the connection, as bw writes to it
	remote string
	state  atomic.Int32
	body   []byte // the buffer of an answer's body before its head is sent
	// deadlineAt is when the idle read deadline was last set (zero: set
	// it before the next wait); it is renewed at most once a second.
	deadlineAt time.Time
	handOff    bool // the connection goes to the Fallback
	headTimed  bool // the request being read has the header timeout

	// The watch for the client leaving during a request; mu guards it.
	mu        sync.Mutex
	timer     *time.Timer
	inRequest bool
	gone      bool            // the client closed its side during a request
	rc        *requestContext // the running request's
}

func newConn(s *Server, c net.Conn) *conn {
	cc := &conn{srv: s, c: c, remote: c.RemoteAddr().String()}
	if sc, ok := c.(syscall.Conn); ok {
		cc.raw, _ = sc.SyscallConn()
	}
	cc.out = sockio.NewWriter(c)
	cc.timer = time.AfterFunc(time.Hour, cc.watch)
	cc.timer.Stop()
	return cc
}

// serve answers the connection's requests until it closes, fails, or a
// request goes to the Fallback with the connection.
func (c *conn) serve() {
	defer func() {
		if c.handOff {
			// Nothing of the request consumed: the Fallback reads it from the start.
			_ = c.c.SetReadDeadline(time.Time{})
			c.srv.handoff.give(&handedConn{Conn: c.c, c: c})
		} else {
			if c.bw != nil {
				_ = c.bw.Flush()
			}
			c.c.Close()
		}
		c.srv.track(c, false)
	}()
	if c.raw == nil {
		c.handOff = true // not a descriptor the loop can wait on
		return
	}
	// The first request has the header timeout from the accept on.
	c.headTimed = true
	_ = c.c.SetReadDeadline(time.Now().Add(c.srv.headerTimeout()))
	_ = c.raw.Read(c.step)
}

// step is the raw read's callback: it answers what is buffered, reads
// more, and returns false to wait until the client is readable, true to
// end the loop.
func (c *conn) step(fd uintptr) bool {
	c.attach()
	for {
		if c.r < c.w {
			n := headEnd(c.buf[c.r:c.w])
			if n == 0 && c.w-c.r == len(c.buf) {
				c.handOff = true // a head longer than the buffer
				return true
			}
			if n > 0 {
				if !c.answer(n) {
					return true
				}
				if c.r < c.w {
					continue // a pipelined request
				}
				if err := c.bw.Flush(); err != nil {
					return true
				}
				if !c.full {
					c.detach()
					return false // the next request wakes the wait
				}
			} else if !c.headTimed {
				// The rest of the head has the header timeout.
				c.headTimed, c.deadlineAt = true, time.Time{}
				if c.c.SetReadDeadline(time.Now().Add(c.srv.headerTimeout())) != nil {
					return true
				}
			}
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
		} else if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
		n, err := sockio.Read(fd, c.buf[c.w:])
		switch {
		case err == syscall.EAGAIN:
			c.detach()
			return false
		case err != nil || n <= 0:
			return true
		}
		c.full = c.w+n == len(c.buf)
		c.w += n
	}
}

// answer serves the request whose head is the first n buffered bytes;
// false when the connection ends (closed, handed over, shutting down).
func (c *conn) answer(n int) bool {
	if !c.state.CompareAndSwap(stateIdle, stateActive) {
		return false // taken by Shutdown
	}
	handOff, keep := c.serveHead(n)
	if handOff {
		c.handOff = true
		return false
	}
	if !keep {
		return false
	}
	c.state.Store(stateIdle)
	c.headTimed = false
	if c.srv.shutting.Load() {
		return false
	}
	if now := time.Now(); c.deadlineAt.IsZero() || now.Sub(c.deadlineAt) > time.Second {
		if c.c.SetReadDeadline(now.Add(c.srv.idleTimeout())) != nil {
			return false
		}
		c.deadlineAt = now
	}
	return true
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
	b := c.buf[c.r : c.r+n]
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
	c.startWatch(rc, n)
	var ctx context.Context = rc
	if fast := c.srv.Fast; fast != nil {
		served, keep, next := fast(ctx, c.buf[c.r:c.r+n], c.remote, c.bw)
		if served {
			c.stopWatch()
			c.r += n
			return false, keep && !c.gone
		}
		ctx = next
	}
	req, ok := c.parse(n)
	if !ok || !c.srv.Take(req) {
		c.stopWatch()
		return true, false
	}
	c.r += n
	req = req.WithContext(ctx)
	w := newResponse(c, req)
	ok = c.run(w, req)
	c.stopWatch()
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
// buffered bytes: after WatchAfter, and then as often, a look at the
// connection notices the client leaving and cancels the request.
func (c *conn) startWatch(rc *requestContext, n int) {
	c.mu.Lock()
	c.inRequest, c.rc = true, rc
	c.mu.Unlock()
	if c.r+n == c.w {
		// Bytes of a pipelined request are waiting otherwise: nothing to watch.
		c.timer.Reset(c.srv.watchAfter())
	}
}

// watch runs on the timer's goroutine while a request runs: it peeks at
// the connection (the loop's raw read holds it) without taking anything.
func (c *conn) watch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.inRequest {
		return
	}
	var b [1]byte
	var n int
	var err error
	if cerr := c.raw.Control(func(fd uintptr) {
		n, _, err = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); cerr != nil {
		err = cerr
	}
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		c.timer.Reset(c.srv.watchAfter()) // still there, nothing sent
	case err != nil || n == 0:
		c.gone = true // closed or reset
		c.rc.cancel()
	default:
		// The next request came: the client is there; nothing more to watch.
	}
}

// stopWatch ends a request's watch.
func (c *conn) stopWatch() {
	c.timer.Stop()
	c.mu.Lock()
	c.inRequest = false
	c.mu.Unlock()
}

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
