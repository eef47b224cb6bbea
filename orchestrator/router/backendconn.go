package router

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
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
	raw    syscall.RawConn
	pr     *prefetched
	br     *bufio.Reader
	bw     *bufio.Writer
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
	c := &fastConn{conn: conn, pr: &prefetched{conn: conn}, addr: addr, bw: bufio.NewWriterSize(sockio.NewWriter(conn), 4<<10)}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.br = bufio.NewReaderSize(c.pr, 8<<10)
	c.abort = func() { _ = c.conn.SetDeadline(aLongTimeAgo) }
	c.step = c.rawStep
	return c
}

// prefetched reads a connection, first giving back what writeThenWait read.
type prefetched struct {
	conn    net.Conn
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
// (up to deadline; none when it is zero).
func (c *fastConn) writeThenWait(ctx context.Context, write func(w io.Writer) error, deadline time.Time) (wrote bool, err error) {
	probe := time.Now().Add(probeAfter)
	if !deadline.IsZero() && deadline.Before(probe) {
		probe = deadline
	}
	_ = c.conn.SetDeadline(probe)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if c.pr.buf == nil {
		c.pr.buf = make([]byte, 8<<10)
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
