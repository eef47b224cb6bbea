package router

import (
	"bytes"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
)

// rawHead is what the raw path reads of a request head: slices of the
// head's own bytes, nothing copied.
type rawHead struct {
	head      []byte // the whole head, request line first
	fields    []byte // the header fields, each ending with CRLF
	method    string // GET or HEAD (constants, not copies)
	target    []byte
	path      []byte // the target without its query
	host      []byte
	agent     []byte
	accept    []byte
	fetchMode []byte
	close     bool // the client asked to close after the answer
}

// parseRawHead reads a request head for the raw path; false for anything
// but a plain HTTP/1.1 GET or HEAD in origin form without a body, an
// upgrade, an expectation, trailers or hop-by-hop headers of its own, and
// for any head that is not strictly well formed (CRLF line ends, token
// field names, no folded lines, no control bytes): those go the long way,
// where net/http judges them.
func parseRawHead(head []byte) (rawHead, bool) {
	h := rawHead{head: head}
	eol := bytes.Index(head, crlf)
	if eol < 0 {
		return h, false
	}
	line := head[:eol]
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		h.method, line = "GET", line[4:]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		h.method, line = "HEAD", line[5:]
	default:
		return h, false
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || string(line[sp+1:]) != "HTTP/1.1" {
		return h, false
	}
	h.target = line[:sp]
	if h.target[0] != '/' || !visible(h.target) {
		return h, false
	}
	h.path = h.target
	if q := bytes.IndexByte(h.path, '?'); q >= 0 {
		h.path = h.path[:q]
	}
	h.fields = head[eol+2:]
	ok := eachField(h.fields, func(name, value, _ []byte) bool {
		switch {
		case is(name, "Host"):
			if h.host != nil {
				return false
			}
			h.host = value
		case is(name, "Connection"):
			return eachToken(value, func(tok []byte) bool {
				h.close = h.close || is(tok, "close")
				return is(tok, "close") || is(tok, "keep-alive")
			})
		case is(name, "Content-Length"), is(name, "Transfer-Encoding"), is(name, "Upgrade"),
			is(name, "Expect"), is(name, "Trailer"), is(name, "Te"):
			return false
		case is(name, "User-Agent"):
			h.agent = value
		case is(name, "Accept"):
			h.accept = value
		case is(name, "Sec-Fetch-Mode"):
			h.fetchMode = value
		}
		return true
	})
	return h, ok && len(h.host) > 0
}

var crlf = []byte("\r\n")

// stringWriter is a bufio.Writer as the raw path uses it.
type stringWriter interface {
	io.Writer
	io.StringWriter
}

// eachField calls fn with each field of a header block (CRLF-ended lines
// up to an empty one): its name, its value without the surrounding
// whitespace, and the whole line; false when a line is malformed or fn
// says so.
func eachField(fields []byte, fn func(name, value, line []byte) bool) bool {
	for len(fields) > 0 {
		eol := bytes.Index(fields, crlf)
		if eol < 0 {
			return false
		}
		if eol == 0 {
			return true // the empty line ending the head
		}
		line := fields[:eol+2]
		fields = fields[eol+2:]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !token(line[:colon]) {
			return false // no name, a folded line, or space before the colon
		}
		value := trimOWS(line[colon+1 : eol])
		if !fieldValue(value) || !fn(line[:colon], value, line) {
			return false
		}
	}
	return false
}

// eachToken calls fn with each token of a comma-separated value (empty
// ones skipped); false as soon as fn says so.
func eachToken(value []byte, fn func(tok []byte) bool) bool {
	for len(value) > 0 {
		tok := value
		if i := bytes.IndexByte(value, ','); i >= 0 {
			tok, value = value[:i], value[i+1:]
		} else {
			value = nil
		}
		if tok = trimOWS(tok); len(tok) > 0 && !fn(tok) {
			return false
		}
	}
	return true
}

// trimOWS trims a field value's surrounding spaces and tabs.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// is compares a field name or token with an ASCII name, ignoring case.
func is(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, n := b[i], name[i]
		if c|0x20 != n|0x20 || (c|0x20 < 'a' || c|0x20 > 'z') && c != n {
			return false
		}
	}
	return true
}

// token reports bytes of a field name (RFC 9110 tchar).
func token(b []byte) bool {
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return len(b) > 0
}

// tchar marks the bytes of a token.
var tchar = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c)
	}
	return t
}()

// fieldValue reports bytes a field value may hold: visible, space, tab,
// and any byte above ASCII.
func fieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// visible reports bytes of a request target: no space nor control byte.
func visible(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// writeRawRequest writes the request to a backend as the direct path
// does: the client's fields but the hop-by-hop ones, its forwarding
// headers replaced by ours, the portal's cookies stripped.
func (p *proxy) writeRawRequest(w io.Writer, h *rawHead, remote string) error {
	bw := w.(stringWriter)
	_, _ = bw.WriteString(h.method)
	_, _ = bw.WriteString(" ")
	_, _ = bw.Write(h.target)
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = bw.Write(h.host)
	_, _ = bw.WriteString("\r\n")
	eachField(h.fields, func(name, value, line []byte) bool {
		switch {
		case notForwardedRaw.has(name):
		case is(name, "Cookie"):
			p.writeCookies(bw, value)
		default:
			_, _ = bw.Write(line)
		}
		return true
	})
	if ip, _, err := net.SplitHostPort(remote); err == nil {
		_, _ = bw.WriteString("X-Forwarded-For: ")
		_, _ = bw.WriteString(ip)
		_, _ = bw.WriteString("\r\n")
	}
	_, _ = bw.WriteString("X-Forwarded-Host: ")
	_, _ = bw.Write(h.host)
	if p.rt.cfg.TLS {
		_, err := bw.WriteString("\r\nX-Forwarded-Proto: https\r\n\r\n")
		return err
	}
	_, err := bw.WriteString("\r\nX-Forwarded-Proto: http\r\n\r\n")
	return err
}

// fieldSet is a set of field names to look raw names up in, whatever
// their case.
type fieldSet map[string]struct{}

// maxSetName bounds the names of a fieldSet (none is longer).
const maxSetName = 32

// newFieldSet holds names but those of except.
func newFieldSet(names []string, except ...string) fieldSet {
	s := make(fieldSet, len(names))
	for _, n := range names {
		if len(n) <= maxSetName && !slices.Contains(except, n) {
			s[strings.ToLower(n)] = struct{}{}
		}
	}
	return s
}

// has reports a raw field name of the set.
func (s fieldSet) has(name []byte) bool {
	if len(name) > maxSetName {
		return false
	}
	var buf [maxSetName]byte
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	_, ok := s[string(buf[:len(name)])]
	return ok
}

// notForwardedRaw are the request fields the raw path does not send on as
// they are: those the direct path leaves out (notForwarded) but the
// cookies, which writeCookies sends.
var notForwardedRaw = newFieldSet(slices.Collect(maps.Keys(notForwarded)), "Cookie")

// writeCookies writes a Cookie field without the portal's cookies (none
// when nothing is left of it).
func (p *proxy) writeCookies(w stringWriter, value []byte) {
	named := false
	for name := range p.strip {
		if bytes.Contains(value, []byte(name)) {
			named = true
			break
		}
	}
	if !named {
		_, _ = w.WriteString("Cookie: ")
		_, _ = w.Write(value)
		_, _ = w.WriteString("\r\n")
		return
	}
	for _, line := range cookieLines([]string{string(value)}, p.strip) {
		_, _ = w.WriteString("Cookie: ")
		_, _ = w.WriteString(line)
		_, _ = w.WriteString("\r\n")
	}
}
