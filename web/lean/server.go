// Package lean serves the plain requests of HTTP/1.1 connections in one
// goroutine per connection, and hands every other connection to net/http.
//
// A tenant's traffic is mostly GET and HEAD without a body, each answered
// by a proxy that writes the request to a backend and copies the answer
// back. net/http's server costs such a request a second goroutine (the
// background read that notices a client leaving), started and stopped
// with a wake-up each way, and a read that finds nothing; on a loaded host
// those cost more than the proxying. The lean loop reads a request's head,
// asks Take whether it serves it, runs the handler on its own goroutine and
// writes the answer with its head and first bytes in one write. It watches
// for the client leaving only once a request has run for WatchAfter.
//
// The first request Take refuses (a body, an upgrade, a portal page, a
// head it cannot parse or that does not fit its buffer) goes, with its
// connection and every byte read so far, to the Fallback server, which
// keeps the connection from then on: WebSockets, uploads, HTTP/1.0
// oddities and error answers stay net/http's.
package lean

import (
	"bufio"
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the lean loop in front of a net/http server.
type Server struct {
	// Handler answers the requests Take accepts.
	Handler http.Handler
	// Take reports whether a request, its head read and without a body,
	// is served by the lean loop.
	Take func(r *http.Request) bool
	// Fast, when set, is offered each request's head (its bytes up to the
	// empty line) before it is parsed, with the client's address and the
	// connection's writer. It answers the request and says whether the
	// connection may serve another; or it returns served false having
	// written nothing, and next is the context the request goes on with
	// to Take and Handler. ctx ends when the client leaves.
	Fast func(ctx context.Context, head []byte, remote string, w *bufio.Writer) (served, keep bool, next context.Context)
	// Fallback serves the connections the lean loop hands over; its
	// ReadHeaderTimeout, IdleTimeout and ErrorLog are the lean loop's too.
	Fallback *http.Server
	// WatchAfter is how long a request runs before its connection is
	// watched for the client leaving, which cancels the request's context
	// (default 200 ms).
	WatchAfter time.Duration

	mu       sync.Mutex
	conns    map[*conn]struct{}
	listener net.Listener
	handoff  *handoffListener
	shutting atomic.Bool
	done     chan struct{} // closed when the last lean connection ends during a shutdown
}

// Serve accepts connections on ln until Shutdown, serving each with the
// lean loop; the Fallback serves what it hands over.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.listener = ln
	s.handoff = newHandoffListener(ln.Addr())
	s.conns = make(map[*conn]struct{})
	s.mu.Unlock()
	fallback := make(chan error, 1)
	go func() { fallback <- s.Fallback.Serve(s.handoff) }()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				<-fallback
				return http.ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				// Out of file descriptors and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("lean: accept error: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			s.handoff.Close()
			<-fallback
			return err
		}
		backoff = 0
		cc := newConn(s, c)
		if !s.track(cc, true) {
			c.Close()
			continue
		}
		go cc.serve()
	}
}

// Plain reports a request the lean loop can serve for any handler: a GET
// or HEAD (the loop never reads a body) without an upgrade, an
// expectation, trailers, or a Connection field naming more than
// keep-alive and close.
func Plain(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, k := range []string{"Upgrade", "Expect", "Trailer"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	for _, v := range r.Header["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" && !strings.EqualFold(tok, "keep-alive") && !strings.EqualFold(tok, "close") {
				return false
			}
		}
	}
	return true
}

// Shutdown stops accepting, closes idle connections, lets the requests in
// flight end (on either server) and returns when they have, or with ctx's
// error when it ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting.Store(true)
	ln := s.listener
	s.done = make(chan struct{})
	if len(s.conns) == 0 {
		close(s.done)
	}
	s.mu.Unlock()
	var lnErr error
	if ln != nil {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			lnErr = err
		}
	}
	fallback := make(chan error, 1)
	go func() { fallback <- s.Fallback.Shutdown(ctx) }()
	s.closeIdle()
	// A connection between requests when Shutdown began closes as its
	// request ends; poll for the ones that were idle and became active.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			if err := <-fallback; err != nil {
				return err
			}
			return lnErr
		case <-tick.C:
			s.closeIdle()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// closeIdle closes the lean connections waiting for a request.
func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.c.Close()
		}
	}
}

// track adds a connection (false once shutting down) or removes one.
func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutting.Load() {
			return false
		}
		s.conns[c] = struct{}{}
		return true
	}
	delete(s.conns, c)
	if len(s.conns) == 0 && s.done != nil {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	return true
}

func (s *Server) logf(format string, args ...any) {
	if l := s.Fallback.ErrorLog; l != nil {
		l.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// handoffListener gives the Fallback the connections the lean loop hands over.
type handoffListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// give hands a connection to the Fallback; once it is closed the
// connection is closed instead.
func (l *handoffListener) give(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		c.Close()
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
