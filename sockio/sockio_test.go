package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// pair returns the two ends of a loopback TCP connection.
func pair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("no connection accepted")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// readRaw runs Read inside the connection's raw read, as the router does.
func readRaw(t *testing.T, c *net.TCPConn, p []byte) (n int, err error) {
	t.Helper()
	raw, rerr := c.SyscallConn()
	if rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := raw.Read(func(fd uintptr) bool {
		n, err = Read(fd, p)
		return err != syscall.EAGAIN
	}); rerr != nil {
		return 0, rerr
	}
	return n, err
}

func TestReadGivesDataThenTheEndOfTheStream(t *testing.T) {
	c, s := pair(t)
	// Nothing there yet: EAGAIN at once, never a wait.
	raw, _ := c.SyscallConn()
	var first error
	_ = raw.Read(func(fd uintptr) bool {
		_, first = Read(fd, make([]byte, 8))
		return true
	})
	if first != syscall.EAGAIN {
		t.Fatalf("read of an empty socket: %v, want EAGAIN", first)
	}
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := readRaw(t, c, buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v; want hello", buf[:n], err)
	}
	s.CloseWrite()
	if n, err := readRaw(t, c, buf); n != 0 || err != nil {
		t.Fatalf("read after the peer's FIN: %d, %v; want 0, nil", n, err)
	}
	if n, err := Read(0, nil); n != 0 || err != nil {
		t.Fatalf("an empty read: %d, %v", n, err)
	}
}

func TestWriterWritesAllThroughAFullSocket(t *testing.T) {
	c, s := pair(t)
	// Buffers far smaller than what is written, so the write meets EAGAIN
	// and must wait (but above loopback's segment size, under which the
	// kernel holds back the window).
	_ = c.SetWriteBuffer(128 << 10)
	_ = s.SetReadBuffer(128 << 10)
	w := NewWriter(c)
	if _, ok := w.(*Writer); !ok {
		t.Fatalf("NewWriter of a TCP connection is a %T", w)
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the writer fill the socket first
		b, _ := io.ReadAll(s)
		got <- b
	}()
	n, err := w.Write(want)
	if err != nil || n != len(want) {
		t.Fatalf("wrote %d, %v; want %d, nil", n, err, len(want))
	}
	c.CloseWrite()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the peer read %d bytes, want %d the same", len(b), len(want))
	}
}

func TestWriterEndsOnTheWriteDeadline(t *testing.T) {
	c, s := pair(t)
	_ = c.SetWriteBuffer(128 << 10)
	_ = s.SetReadBuffer(128 << 10)
	w := NewWriter(c)
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	// Nobody reads: the socket fills and the deadline ends the wait.
	n, err := w.Write(make([]byte, 8<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %d, %v; want the deadline", n, err)
	}
	if n <= 0 || n >= 8<<20 {
		t.Fatalf("wrote %d before the deadline, want some but not all", n)
	}
}

func TestWriterReportsAConnectionTheLeftPeerReset(t *testing.T) {
	c, s := pair(t)
	_ = s.SetLinger(0)
	s.Close() // a reset
	w := NewWriter(c)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = w.Write([]byte("are you there"))
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write to a reset connection: %v, want ECONNRESET or EPIPE", err)
	}
}

func TestNewWriterOfAConnectionWithoutADescriptorIsTheConnection(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if w := NewWriter(a); w != a {
		t.Fatalf("NewWriter(net.Pipe) = %T, want the pipe itself", w)
	}
	if r := NewReader(a); r != a {
		t.Fatalf("NewReader(net.Pipe) = %T, want the pipe itself", r)
	}
}

// A Reader waits for what comes later, gives what came before it was
// called (no readiness of the descriptor is lost), then io.EOF.
func TestReaderWaitsThenGivesDataThenTheEnd(t *testing.T) {
	c, s := pair(t)
	r := NewReader(c)
	if _, err := s.Write([]byte("early")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the readiness comes before the read
	buf := make([]byte, 64)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "early" {
		t.Fatalf("read of what came first = %q, %v", buf[:n], err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.Write([]byte("late"))
		s.CloseWrite()
	}()
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("read that waits = %q, %v", buf[:n], err)
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read at the end = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty read = %d, %v", n, err)
	}
}

func TestReaderEndsOnTheReadDeadlineAndReportsAReset(t *testing.T) {
	c, s := pair(t)
	r := NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read from a silent peer: %v; want the deadline", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	_ = s.SetLinger(0)
	s.Close() // a reset
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read from a reset connection: %v, want ECONNRESET", err)
	}
}
