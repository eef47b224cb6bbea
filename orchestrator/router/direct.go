package router

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
)

// The direct path serves the requests that make most of a tenant's
// traffic, GET and HEAD without a body nor an upgrade, without the
// ReverseProxy: the request line and headers are written straight from the
// client's request to a kept-alive backend connection (no clone of the
// request, its URL and headers), and the answer's headers are moved, not
// copied, to the client's. It forwards as the ReverseProxy with our Rewrite
// does: hop-by-hop headers removed both ways, the client's Forwarded and
// X-Forwarded-* replaced by ours, the portal's cookies stripped, trailers
// passed on, every write flushed. Anything else takes the ReverseProxy.

// direct reports whether a request takes the direct path.
func direct(r *http.Request) bool {
	if !handles(r) || r.ProtoMajor != 1 {
		return false
	}
	if _, ok := r.Header["Trailer"]; ok {
		return false
	}
	// A Connection header naming other headers (to drop) goes the long way.
	for _, v := range r.Header["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if !strings.EqualFold(tok, "keep-alive") && !strings.EqualFold(tok, "close") && tok != "" {
				return false
			}
		}
	}
	return true
}

// notForwarded are the request headers the direct path does not copy: the
// hop-by-hop ones, those it writes itself, and the client's forwarding
// headers, which ours replace.
var notForwarded = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Cookie": true, "Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true,
}

// hopHeaders are removed from an answer before it is passed on.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// writeRequest writes r as it goes to a backend.
func (p *proxy) writeRequest(w io.Writer, r *http.Request) error {
	bw := w.(*bufio.Writer)
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(r.URL.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	if err := r.Header.WriteSubset(bw, notForwarded); err != nil {
		return err
	}
	if lines := r.Header["Cookie"]; len(lines) > 0 {
		for _, line := range cookieLines(lines, p.strip) {
			bw.WriteString("Cookie: ")
			bw.WriteString(line)
			bw.WriteString("\r\n")
		}
	}
	for _, v := range r.Header["Te"] {
		if strings.Contains(strings.ToLower(v), "trailers") {
			bw.WriteString("Te: trailers\r\n")
			break
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		bw.WriteString("X-Forwarded-For: ")
		bw.WriteString(ip)
		bw.WriteString("\r\n")
	}
	bw.WriteString("X-Forwarded-Host: ")
	bw.WriteString(r.Host)
	if p.rt.cfg.TLS || r.TLS != nil {
		bw.WriteString("\r\nX-Forwarded-Proto: https\r\n\r\n")
	} else {
		bw.WriteString("\r\nX-Forwarded-Proto: http\r\n\r\n")
	}
	return nil
}

// serveDirect proxies a request that takes the direct path.
func (p *proxy) serveDirect(w http.ResponseWriter, r *http.Request, st *proxied) {
	ctx := r.Context()
	write := func(out io.Writer) error { return p.writeRequest(out, r) }
	resp, err := try(p, ctx, r.Method, st, func(addr string) (*http.Response, error) {
		return p.fast.roundTrip(ctx, addr, r, write)
	})
	if err != nil {
		p.failed(w, r, st, err)
		return
	}
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = vv
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	if err := copyFlushing(w, rc, resp.Body); err != nil {
		if ctx.Err() != nil {
			return // the client went away
		}
		p.rt.logger.Warn("proxy error while copying an answer", slog.String("tenant", st.route.Slug), slog.Any("err", err))
		// Headers are gone: abort, so that the client sees the answer cut.
		panic(http.ErrAbortHandler)
	}
	if len(resp.Trailer) == announced {
		for k, vv := range resp.Trailer {
			h[k] = vv
		}
		return
	}
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = vv
	}
}

// copyFlushing copies an answer's body to the client, flushing each write
// (a stream reaches the client as it comes). A write error (the client
// went away) ends the copy without an error.
func copyFlushing(w http.ResponseWriter, rc *http.ResponseController, body io.Reader) error {
	bp, _ := copyBufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 32<<10)
		bp = &b
	}
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// copyBufs are the direct path's 32 KiB copy buffers.
var copyBufs sync.Pool

// removeHopHeaders removes the hop-by-hop headers of an answer, those its
// Connection header names included.
func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			if tok = textproto.TrimString(tok); tok != "" {
				h.Del(tok)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}
