package router

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"appfactory/domain"
)

// The raw path serves the requests that make most of a tenant's traffic,
// a plain GET or HEAD to a running tenant, from the bytes of the request's
// head: no http.Request is built, the backend's answer is not parsed into
// an http.Response, and its head and body are copied to the client as
// they come, with the hop-by-hop fields taken out. It forwards as the
// direct path does (the client's forwarding headers replaced by ours, the
// portal's cookies stripped, the tenant's activity counted, a replica that
// refuses a dial taken out, an idempotent request that failed on one
// replica sent to another). Anything it does not take, and any request
// that failed before a byte reached the client, goes the long way through
// ServeHTTP, which answers the failure (starting the tenant when none of
// its replicas answers, or a 502 or 504).

// rawFailure is the failure a request met on the raw path before anything
// reached its client; ServeHTTP answers it.
type rawFailure struct {
	st  *proxied
	err error
}

type rawFailureKey struct{}

// ServeHead answers a request from its head (the request line and header
// fields up to the empty line, as read from the client) and writes the
// answer to w; remote is the client's address. served is false, with
// nothing written, for a request it does not take: next is then the
// context the request goes on with through ServeHTTP. keep is false when
// the connection must close after the answer (the client asked, the
// answer ends with the connection, or it was cut).
func (rt *Router) ServeHead(ctx context.Context, head []byte, remote string, w *bufio.Writer) (served, keep bool, next context.Context) {
	h, ok := parseRawHead(head)
	if !ok || bytes.HasPrefix(h.path, []byte(ReservedPrefix)) {
		return false, false, ctx
	}
	slug, ok := rt.cfg.Slug(string(h.host))
	if !ok {
		return false, false, ctx
	}
	rte, ok := rt.routes.Get(slug)
	if !ok || rte.State != domain.StateRunning || len(rte.Backends) == 0 {
		return false, false, ctx
	}
	quiet := h.method == http.MethodHead || string(h.path) == "/robots.txt" || rt.bots.isBotAgent(h.agent)
	defer rt.begin(rte.TenantID, quiet, func() string {
		return describeWaker(navigation(h.method, string(h.fetchMode), string(h.accept)), h.method, string(h.path), string(h.agent))
	})()
	// Read again now that the request counts as in flight (ServeHTTP says why).
	if again, ok := rt.routes.Get(slug); ok && again.TenantID == rte.TenantID {
		rte = again
	}
	if rte.State != domain.StateRunning || len(rte.Backends) == 0 {
		return false, false, ctx
	}
	p := rt.proxy
	st := &proxied{route: rte, mayActivate: true}
	write := func(out io.Writer) error { return p.writeRawRequest(out, &h, remote) }
	type sent struct {
		c    *fastConn
		stop func() bool
	}
	s, err := try(p, ctx, h.method, st, func(addr string) (sent, error) {
		c, stop, err := p.fast.rawRoundTrip(ctx, addr, write)
		return sent{c, stop}, err
	})
	if err != nil {
		return false, false, context.WithValue(ctx, rawFailureKey{}, &rawFailure{st: st, err: err})
	}
	status, wrote, keep, err := p.relay(ctx, w, s.c, s.stop, &h)
	if err != nil && !wrote {
		return false, false, context.WithValue(ctx, rawFailureKey{}, &rawFailure{st: st, err: err})
	}
	if rt.cfg.Answered != nil {
		rt.cfg.Answered(status)
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, errClientWrite) {
			rt.logger.Warn("proxy error while copying an answer", slog.String("tenant", rte.Slug), slog.Any("err", err))
		}
		return true, false, ctx
	}
	return true, keep && !h.close, ctx
}

// errClientWrite marks a failed write to the client (it went away).
var errClientWrite = errors.New("write to the client failed")

// rawAnswer is what the raw path reads of an answer's head.
type rawAnswer struct {
	status   int
	length   int64 // Content-Length, -1 when none
	chunked  bool
	close    bool // the backend closes the connection after it
	date     bool
	dropped  [4][]byte // fields its Connection field names
	ndropped int
}

// maxAnswerHead bounds an answer's head: the backend connection's buffer.
const maxAnswerHead = 8 << 10

// relay copies the answer on c to w: informational answers, then the
// final head without its hop-by-hop fields, then the body as it comes
// (each part sent before waiting for the next). wrote says whether any
// byte went to w; keep whether the client connection may serve another
// request.
func (p *proxy) relay(ctx context.Context, w *bufio.Writer, c *fastConn, stop func() bool, h *rawHead) (status int, wrote, keep bool, err error) {
	backendKeep := false
	defer func() {
		// As fastBody.Close: a connection read to the end of its answer
		// goes back to the pool, unless ctx ended (its deadline failed).
		if stop() && backendKeep && err == nil && c.br.Buffered() == 0 {
			p.fast.put(c)
			return
		}
		c.conn.Close()
	}()
	var a rawAnswer
	var n int
	var head []byte
	for {
		if n, err = answerHead(c.br); err != nil {
			return 0, wrote, false, err
		}
		head, _ = c.br.Peek(n)
		if a, err = parseAnswer(head); err != nil {
			return 0, wrote, false, err
		}
		if a.status == http.StatusSwitchingProtocols {
			return 0, wrote, false, errUnexpectedUpgrade
		}
		if a.status >= 200 {
			break
		}
		// An informational answer (103 Early Hints) goes on at once.
		writeAnswerHead(w, head, &a, false, false)
		wrote = true
		_, _ = c.br.Discard(n)
		if err := w.Flush(); err != nil {
			return 0, wrote, false, errClientWrite
		}
	}
	bodyless := h.method == http.MethodHead || a.status == http.StatusNoContent || a.status == http.StatusNotModified
	untilClose := !bodyless && !a.chunked && a.length < 0
	closeClient := untilClose || h.close
	writeAnswerHead(w, head, &a, closeClient, !a.date)
	_, _ = c.br.Discard(n)
	_ = c.conn.SetDeadline(time.Time{})
	if ctx.Err() != nil {
		return a.status, true, false, ctx.Err()
	}
	switch {
	case bodyless:
	case a.chunked:
		err = copyChunked(w, c.br)
	case a.length >= 0:
		err = copyN(w, c.br, a.length)
	default:
		err = copyN(w, c.br, -1)
	}
	if err == nil {
		if werr := w.Flush(); werr != nil {
			err = errClientWrite
		}
	}
	backendKeep = !a.close && !untilClose
	return a.status, true, !closeClient, err
}

// answerHead returns the length of the answer head at the start of br,
// reading until it is there.
func answerHead(br *bufio.Reader) (int, error) {
	for {
		b, _ := br.Peek(br.Buffered())
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			return i + 4, nil
		}
		if len(b) >= maxAnswerHead {
			return 0, errors.New("the answer's head is too long")
		}
		if _, err := br.Peek(len(b) + 1); err != nil {
			return 0, err
		}
	}
}

// parseAnswer reads the status and the framing of an answer's head.
func parseAnswer(head []byte) (rawAnswer, error) {
	a := rawAnswer{length: -1}
	eol := bytes.Index(head, crlf)
	line := head[:eol]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return a, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return a, fmt.Errorf("malformed status line %q", line)
	}
	a.status = status
	a.close = line[7] == '0' // an HTTP/1.0 backend closes
	var te []byte
	ok := eachField(head[eol+2:], func(name, value, _ []byte) bool {
		switch {
		case is(name, "Content-Length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || a.length >= 0 && a.length != n {
				return false
			}
			a.length = n
		case is(name, "Transfer-Encoding"):
			if te != nil {
				return false
			}
			te = value
		case is(name, "Connection"):
			return eachToken(value, func(tok []byte) bool {
				switch {
				case is(tok, "close"):
					a.close = true
				case is(tok, "keep-alive"):
					a.close = a.close && line[7] != '0' // an HTTP/1.0 backend keeps it
				case a.ndropped < len(a.dropped):
					a.dropped[a.ndropped] = tok
					a.ndropped++
				default:
					return false
				}
				return true
			})
		case is(name, "Date"):
			a.date = true
		}
		return true
	})
	if !ok {
		return a, errors.New("malformed answer head")
	}
	if te != nil {
		if !is(te, "chunked") {
			return a, fmt.Errorf("unsupported Transfer-Encoding %q", te)
		}
		if a.length >= 0 {
			return a, errors.New("an answer with both Content-Length and Transfer-Encoding")
		}
		a.chunked = true
	}
	return a, nil
}

// writeAnswerHead writes an answer head to the client without the
// hop-by-hop fields (Transfer-Encoding stays: the chunks go on as they
// are) and those the backend's Connection field names.
func writeAnswerHead(w *bufio.Writer, head []byte, a *rawAnswer, closeConn, addDate bool) {
	eol := bytes.Index(head, crlf)
	_, _ = w.WriteString("HTTP/1.1")
	_, _ = w.Write(head[8 : eol+2])
	eachField(head[eol+2:], func(name, _, line []byte) bool {
		if answerHop.has(name) {
			return true
		}
		for _, d := range a.dropped[:a.ndropped] {
			if bytes.EqualFold(name, d) {
				return true
			}
		}
		_, _ = w.Write(line)
		return true
	})
	if addDate {
		_, _ = w.WriteString("Date: ")
		_, _ = w.WriteString(time.Now().UTC().Format(http.TimeFormat))
		_, _ = w.WriteString("\r\n")
	}
	if closeConn {
		_, _ = w.WriteString("Connection: close\r\n")
	}
	_, _ = w.WriteString("\r\n")
}

// answerHop are the answer fields that stay between the backend and us:
// hopHeaders but Trailer and Transfer-Encoding, which go on with the
// chunks they describe.
var answerHop = newFieldSet(hopHeaders, "Trailer", "Transfer-Encoding")
