// Package sockio reads and writes a connected socket's descriptor from
// inside syscall.RawConn callbacks, with raw system calls.
//
// The runtime treats an ordinary system call as one that may block: it
// marks the goroutine's P as in a system call, and its monitor thread,
// finding the P still there on its next look (20 µs to 10 ms later), hands
// the P to another thread, waking one. A write to a socket on this host
// runs the peer's receive path inline and often lasts that long, so every
// busy proxy paid for threads handed Ps and put back to sleep, and for a
// monitor kept waking every 20 µs. The descriptors the runtime polls are
// non-blocking: a read or write on them returns at once, data or EAGAIN,
// which is what a raw system call is for. Built with the race detector,
// the package makes ordinary system calls instead (race.go).
package sockio

import (
	"io"
	"net"
	"os"
	"syscall"
)

// Read reads once from a non-blocking descriptor: n > 0 bytes, n == 0 at
// the end of the stream, or an error (syscall.EAGAIN when nothing is
// there yet).
func Read(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, e := sysRead(fd, p)
		switch e {
		case 0:
			return n, nil
		case syscall.EINTR:
			continue
		default:
			return 0, e
		}
	}
}

// Reader reads a connection through its RawConn: one raw read, after
// waiting for the socket to be readable when nothing is there (and ending
// on the connection's read deadline, as net.Conn's Read does). The end of
// the stream is io.EOF.
type Reader struct {
	raw  syscall.RawConn
	p    []byte
	n    int
	err  error
	step func(fd uintptr) bool
}

// NewReader returns a Reader for c, or c itself when c has no descriptor.
func NewReader(c net.Conn) io.Reader {
	raw := rawConn(c)
	if raw == nil {
		return c
	}
	r := &Reader{raw: raw}
	r.step = r.read
	return r
}

func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.raw.Read(r.step)
	n, rerr := r.n, r.err
	r.p = nil
	switch {
	case rerr != nil:
		return 0, rerr
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// read is the raw read's callback: false to wait until readable.
func (r *Reader) read(fd uintptr) bool {
	n, err := Read(fd, r.p)
	switch {
	case err == syscall.EAGAIN:
		return false
	case err != nil:
		r.err = os.NewSyscallError("read", err)
	default:
		r.n = n
	}
	return true
}

// rawConn is c's RawConn, nil when it has no descriptor.
func rawConn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// Writer writes to a connection through its RawConn: raw writes until all
// is written, waiting for the socket to be writable between them (and
// ending on the connection's write deadline, as net.Conn's Write does).
type Writer struct {
	raw  syscall.RawConn
	p    []byte
	n    int
	err  error
	step func(fd uintptr) bool
}

// NewWriter returns a Writer for c, or c itself when c has no descriptor.
func NewWriter(c net.Conn) io.Writer {
	raw := rawConn(c)
	if raw == nil {
		return c
	}
	w := &Writer{raw: raw}
	w.step = w.write
	return w
}

func (w *Writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	w.p, w.n, w.err = p, 0, nil
	err := w.raw.Write(w.step)
	n, werr := w.n, w.err
	w.p = nil
	if werr != nil {
		return n, werr
	}
	if err != nil {
		return n, err
	}
	return n, nil
}

// write is the raw write's callback: false to wait until writable.
func (w *Writer) write(fd uintptr) bool {
	for w.n < len(w.p) {
		b := w.p[w.n:]
		n, e := sysWrite(fd, b)
		switch e {
		case 0:
			if n == 0 {
				w.err = io.ErrShortWrite
				return true
			}
			w.n += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			w.err = os.NewSyscallError("write", e)
			return true
		}
	}
	return true
}
