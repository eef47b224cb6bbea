package router

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"appfactory/sockio"
)

// fastConn is one connection to a backend with its buffers.
type fastConn struct {
	conn net.Conn
	// raw is the connection's descriptor (nil for a connection without
	// one); pr, under br, gives what a read on raw got first.
	raw syscall.RawConn
	pr  *prefetched
	// br and bw (and pr's buffer) are from connBufs while the connection
	// carries a request, nil while it is idle: attach and detach.
	br     *bufio.Reader
	bw     *bufio.Writer
	bufs   *connBufs
	out    io.Writer // the connection, as bw writes to it
	addr   string
	idleAt time.Time
	// abort fails what waits on the connection (a request's context
	// ended); step is writeThenWait's callback and the rest its state,
	// kept here so that neither is made again for every request.
	abort      func()
	step       func(fd uintptr) bool
	write      func(w io.Writer) error
	first      bool
	werr, rerr error
}

func newFastConn(conn net.Conn, addr string) *fastConn {
	c := &fastConn{conn: conn, pr: &prefetched{conn: sockio.NewReader(conn)}, addr: addr, out: sockio.NewWriter(conn)}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.abort = func() { _ = c.conn.SetDeadline(aLongTimeAgo) }
	c.step = c.rawStep
	return c
}

// connBufs are the buffers of a connection carrying a request. They come
// from a pool and go back to it when the connection goes idle: a
// connection idle in the pool holds none, and the few in use stay in the
// CPU's caches. Per connection, 20 KiB for each of hundreds of kept-alive
// connections made every request touch cold memory.
type connBufs struct {
	raw []byte // what a raw read gets first (prefetched)
	br  *bufio.Reader
	bw  *bufio.Writer
}

var connBufPool = sync.Pool{New: func() any {
	return &connBufs{raw: make([]byte, 8<<10), br: bufio.NewReaderSize(nil, 8<<10), bw: bufio.NewWriterSize(nil, 4<<10)}
}}

// attach gives the connection its buffers for a request (a no-op when it
// has them: a connection handed from one request to the next keeps them).
func (c *fastConn) attach() {
	if c.bufs != nil {
		return
	}
	b := connBufPool.Get().(*connBufs)
	b.br.Reset(c.pr)
	b.bw.Reset(c.out)
	c.bufs, c.br, c.bw, c.pr.buf = b, b.br, b.bw, b.raw
}

// detach gives the buffers back as the connection goes idle, when nothing
// is left in them (the answer was read to its end, the request flushed).
func (c *fastConn) detach() {
	b := c.bufs
	if b == nil || b.br.Buffered() > 0 || b.bw.Buffered() > 0 || len(c.pr.pending) > 0 {
		return
	}
	b.br.Reset(nil)
	b.bw.Reset(nil)
	c.bufs, c.br, c.bw, c.pr.buf = nil, nil, nil, nil
	connBufPool.Put(b)
}

// prefetched reads a connection, first giving back what writeThenWait
// read. Its reads are sockio's raw ones: an answer slower than the probe,
// its rest, and a body longer than the first read all come through here,
// and an ordinary read on every one of them kept the runtime's monitor
// waking every 20 µs (a tenth of the router's CPU with pages of 100 ms).
type prefetched struct {
	conn    io.Reader
	buf     []byte
	pending []byte
}

func (p *prefetched) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		return n, nil
	}
	return p.conn.Read(b)
}

// writeThenWait writes a request and waits for the first bytes of its
// answer without the read that finds nothing: the runtime's readiness
// for the descriptor is reset before the request goes out (inside the
// raw read), so an answer that comes at once, even before the wait, is
// seen, and the read that follows finds data. A net.Conn's Read would try
// first, find nothing, and only then wait, one system call more for
// every request. What came while the connection was idle in the pool (the
// backend closed it, a replica was killed) came before the reset and
// would wake nothing: the first wait ends after probeAfter, and an answer
// not there by then is looked for with a read before the wait goes on
// (up to deadline; none when it is zero). now is the time of the call.
func (c *fastConn) writeThenWait(ctx context.Context, write func(w io.Writer) error, now, deadline time.Time) (wrote bool, err error) {
	probe := now.Add(probeAfter)
	if !deadline.IsZero() && deadline.Before(probe) {
		probe = deadline
	}
	_ = c.conn.SetDeadline(probe)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.write, c.first, c.werr, c.rerr = write, true, nil, nil
	err = c.raw.Read(c.step)
	c.write = nil
	werr, rerr := c.werr, c.rerr
	if werr != nil {
		return false, werr
	}
	if err == nil {
		return true, rerr
	}
	if !isTimeout(err) || probe.Equal(deadline) {
		return true, err
	}
	// The probe ended the wait: look, then wait with the deadline. A
	// cancellation that came meanwhile set its own deadline first.
	_ = c.conn.SetDeadline(deadline)
	if err := ctx.Err(); err != nil {
		return true, err
	}
	_, err = c.br.Peek(1)
	return true, err
}

// rawStep is the raw read's callback: the request first, then reads
// until the answer's first bytes (false: wait until readable).
func (c *fastConn) rawStep(fd uintptr) bool {
	if c.first {
		c.first = false
		if c.werr = c.write(c.bw); c.werr == nil {
			c.werr = c.bw.Flush()
		}
		return c.werr != nil
	}
	for {
		n, err := sockio.Read(fd, c.pr.buf)
		switch {
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			c.rerr = os.NewSyscallError("read", err)
		case n == 0:
			c.rerr = io.EOF
		default:
			c.pr.pending = c.pr.buf[:n]
		}
		return true
	}
}

// probeAfter is how long an answer may take before writeThenWait looks
// for what its wait may have missed: a backend answers most requests
// sooner, and a connection that died while idle costs no more than that.
const probeAfter = 50 * time.Millisecond

// userTimeout bounds how long a request written to a backend may stay
// unacknowledged before the kernel gives the connection up (TCP's user
// timeout). A replica killed with its network sends neither FIN nor reset
// (a swarm task's overlay goes with it), and a kept-alive connection to it
// would otherwise wait for an answer until the header timeout. A live
// backend acknowledges within milliseconds however long it takes to
// answer: the timeout bounds the acknowledgement, never the answer.
const userTimeout = 3 * time.Second

// withUserTimeout sets userTimeout on the TCP connections dial makes.
func withUserTimeout(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if sc, ok := c.(syscall.Conn); ok {
			if raw, err := sc.SyscallConn(); err == nil {
				_ = raw.Control(func(fd uintptr) {
					_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(userTimeout/time.Millisecond))
				})
			}
		}
		return c, nil
	}
}

// lost reports a wait for an answer's first byte that failed for the
// connection, not for our deadline: closed or reset, or given up by the
// kernel (the user timeout), so that nothing the request said reached the
// backend's app.
func lost(err error) bool { return !isTimeout(err) || errors.Is(err, syscall.ETIMEDOUT) }
