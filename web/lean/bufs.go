package lean

import (
	"bufio"
	"net"
	"sync"
)

// connBufs are a connection's read and write buffers. They come from a
// pool while the connection has bytes to read or answer, and go back to it
// while it waits with nothing buffered: an idle kept-alive connection
// holds none, and the few in use stay in the CPU's caches (8 KiB for each
// of hundreds of connections made every request touch cold memory).
type connBufs struct {
	read []byte
	bw   *bufio.Writer
}

var bufPool = sync.Pool{New: func() any {
	return &connBufs{read: make([]byte, bufSize), bw: bufio.NewWriterSize(nil, bufSize)}
}}

func (c *conn) attach() {
	if c.bufs != nil {
		return
	}
	b := bufPool.Get().(*connBufs)
	b.bw.Reset(c.out)
	c.bufs, c.buf, c.bw = b, b.read, b.bw
}

// detach gives the buffers back when nothing is left in them.
func (c *conn) detach() {
	b := c.bufs
	if b == nil || c.r < c.w || b.bw.Buffered() > 0 {
		return
	}
	b.bw.Reset(nil)
	c.bufs, c.buf, c.bw = nil, nil, nil
	c.r, c.w = 0, 0
	bufPool.Put(b)
}

// handedConn is a connection given to the Fallback with what the lean
// loop read of it.
type handedConn struct {
	net.Conn
	c *conn
}

func (h *handedConn) Read(p []byte) (int, error) {
	if c := h.c; c.r < c.w {
		n := copy(p, c.buf[c.r:c.w])
		c.r += n
		return n, nil
	}
	return h.Conn.Read(p)
}
