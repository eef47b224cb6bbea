package lean

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// response is the http.ResponseWriter of a lean request. The head is
// written when the body no longer fits the buffer, at a flush, or when the
// handler returns; in the last case a response without a Content-Length
// gets one. Otherwise an HTTP/1.1 body is chunked and an HTTP/1.0 one ends
// with the connection. Unlike net/http it never guesses a Content-Type: a
// proxied answer goes out with the headers the backend gave.
type response struct {
	c      *conn
	req    *http.Request
	header http.Header

	status      int
	wroteHeader bool
	committed   bool
	bodyAllowed bool
	head        bool  // a HEAD request: the body is counted, not sent
	length      int64 // the Content-Length, -1 while unknown
	written     int64
	chunked     bool
	close       bool // the connection closes after this answer
	buf         []byte
}

func newResponse(c *conn, req *http.Request) *response {
	return &response{c: c, req: req, header: make(http.Header, 8), length: -1, head: req.Method == http.MethodHead}
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// An informational answer (103 Early Hints) goes out at once.
		w.writeStatus(code)
		w.writeFields(w.header)
		_, _ = w.c.bw.WriteString("\r\n")
		_ = w.c.bw.Flush()
		return
	}
	w.wroteHeader, w.status = true, code
	w.bodyAllowed = code != http.StatusNoContent && code != http.StatusNotModified
	if cl := w.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			w.c.srv.logf("lean: invalid Content-Length %q", cl)
			w.header.Del("Content-Length")
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.bodyAllowed {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.length >= 0 && w.written > w.length {
		return 0, http.ErrContentLength
	}
	if w.head {
		return len(p), nil
	}
	if !w.committed {
		if len(w.buf)+len(p) <= bufSize {
			if w.buf == nil {
				if w.c.body == nil {
					w.c.body = make([]byte, 0, bufSize)
				}
				w.buf = w.c.body[:0]
			}
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		if err := w.commit(false); err != nil {
			return 0, err
		}
	}
	return w.writeBody(p)
}

// writeBody writes p to the connection's buffer, as a chunk when chunked.
func (w *response) writeBody(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	bw := w.c.bw
	if w.chunked {
		var hex [16]byte
		_, _ = bw.Write(strconv.AppendInt(hex[:0], int64(len(p)), 16))
		_, _ = bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if err == nil && w.chunked {
		_, err = bw.WriteString("\r\n")
	}
	return n, err
}

// FlushError sends what was written; http.ResponseController calls it.
func (w *response) FlushError() error {
	if err := w.headOut(false); err != nil {
		return err
	}
	return w.c.bw.Flush()
}

// headOut writes the head (a 200 when none was set) unless it is out;
// final as commit's.
func (w *response) headOut(final bool) error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.committed {
		return nil
	}
	return w.commit(final)
}

func (w *response) Flush() { _ = w.FlushError() }

// SetWriteDeadline and SetReadDeadline are for http.ResponseController.
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.c.SetWriteDeadline(t) }
func (w *response) SetReadDeadline(t time.Time) error  { return w.c.c.SetReadDeadline(t) }

// commit writes the status line and the header with the framing of the
// body, then the buffered body; final says that the handler has returned,
// so the buffered body is all of it.
func (w *response) commit(final bool) error {
	w.committed = true
	h := w.header
	_, trailers := h["Trailer"]
	delete(h, "Transfer-Encoding")
	switch {
	case w.length >= 0 || !w.bodyAllowed:
	case final && !trailers:
		if w.written > 0 || !w.head {
			w.length = w.written
			h["Content-Length"] = []string{strconv.FormatInt(w.written, 10)}
		}
	case w.head:
		// The size of a HEAD's body is unknown: nothing to frame.
	case w.req.ProtoAtLeast(1, 1):
		w.chunked = true
	default:
		w.close = true // an HTTP/1.0 body of unknown length ends with the connection
	}
	if w.req.Close || w.c.srv.shutting.Load() || hasToken(h["Connection"], "close") {
		w.close = true
	}
	switch {
	case w.close:
		h["Connection"] = []string{"close"}
	case !w.req.ProtoAtLeast(1, 1):
		h["Connection"] = []string{"keep-alive"}
	}
	if _, ok := h["Date"]; !ok {
		h["Date"] = []string{httpDate()}
	}
	w.writeStatus(w.status)
	w.writeFields(h)
	bw := w.c.bw
	if w.chunked {
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	_, _ = bw.WriteString("\r\n")
	_, err := w.writeBody(w.buf)
	w.buf = w.buf[:0]
	return err
}

// finish ends the answer once the handler returned: the head if not yet
// sent, the last chunk and the trailers; false when the connection must
// close (asked for, a body shorter than its Content-Length, a failed write).
func (w *response) finish() bool {
	if err := w.headOut(true); err != nil {
		return false
	}
	bw := w.c.bw
	if w.chunked {
		_, _ = bw.WriteString("0\r\n")
		w.writeTrailers()
		_, _ = bw.WriteString("\r\n")
	}
	if err := bw.Flush(); err != nil {
		return false
	}
	short := w.length >= 0 && w.written < w.length && w.bodyAllowed && !w.head
	return !w.close && !short
}

// writeTrailers writes the trailers the header announced, and those set
// with http.TrailerPrefix.
func (w *response) writeTrailers() {
	t := make(http.Header)
	for _, v := range w.header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if vv, ok := w.header[k]; ok {
				t[k] = vv
			}
		}
	}
	for k, vv := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			t[http.CanonicalHeaderKey(name)] = vv
		}
	}
	w.writeFields(t)
}

func (w *response) writeStatus(code int) {
	bw := w.c.bw
	var num [8]byte
	_, _ = bw.WriteString("HTTP/1.1 ")
	_, _ = bw.Write(strconv.AppendInt(num[:0], int64(code), 10))
	_ = bw.WriteByte(' ')
	if text := http.StatusText(code); text != "" {
		_, _ = bw.WriteString(text)
	} else {
		_, _ = bw.WriteString("status code ")
		_, _ = bw.Write(strconv.AppendInt(num[:0], int64(code), 10))
	}
	_, _ = bw.WriteString("\r\n")
}

// writeFields writes header fields; invalid names are left out, and line
// breaks in values become spaces (as net/http does), so that no value can
// add a field of its own.
func (w *response) writeFields(h http.Header) {
	bw := w.c.bw
	for k, vv := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
			}
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(v)
			_, _ = bw.WriteString("\r\n")
		}
	}
}

// hasToken reports whether a comma-separated header names token.
func hasToken(vv []string, token string) bool {
	for _, v := range vv {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// httpDate is the Date header's value, made once a second.
func httpDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.text
	}
	d := &cachedDate{sec: now.Unix(), text: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.text
}

type cachedDate struct {
	sec  int64
	text string
}

var dateCache atomic.Pointer[cachedDate]
