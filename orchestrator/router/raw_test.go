package router

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// cannedAnswers are the answers of a backend that writes them byte for
// byte, by request path; "close" after an answer closes the connection.
var cannedAnswers = map[string]string{
	"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n4\r\nbody\r\n3;ext=1\r\n!!!\r\n0\r\nX-Sum: 42\r\n\r\n",
	"/hop": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Secret, keep-alive\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n" +
		"Proxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: k\r\n\r\nok",
	"/early":       "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
	"/smuggle":     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"/unmodified":  "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
	"/sized":       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
	"/until-close": "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
	"/then-close":  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", // then a FIN and nothing more
}

// cannedBackend serves cannedAnswers and counts its connections.
func cannedBackend(t *testing.T) (addr string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					answer := cannedAnswers[req.URL.Path]
					if req.Method == http.MethodHead && req.URL.Path == "/sized" {
						answer = strings.TrimSuffix(answer, "0123456789")
					}
					if _, err := io.WriteString(c, answer); err != nil || strings.HasPrefix(answer, "HTTP/1.0") {
						return
					}
					if req.URL.Path == "/then-close" {
						// Half closed, as a replica whose network went away
						// with it: a FIN came, and no reset ever will.
						_ = c.(*net.TCPConn).CloseWrite()
						_, _ = io.Copy(io.Discard, c)
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// rawClient sends requests to the front on one connection, byte for byte.
type rawClient struct {
	c  net.Conn
	br *bufio.Reader
}

func (f *routerFixture) rawClient(t *testing.T) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{c: c, br: bufio.NewReader(c)}
}

func (c *rawClient) do(t *testing.T, method, path, proto string) (*http.Response, string) {
	t.Helper()
	if _, err := io.WriteString(c.c, method+" "+path+" "+proto+"\r\nHost: acme."+testDomain+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s body: %v", method, path, err)
	}
	return resp, string(b)
}

func TestRawPathRelaysAnswersAsTheyAreFramed(t *testing.T) {
	backend, conns := cannedBackend(t)
	f := newRouterFixture(t, RouterConfig{})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{backend}})
	c := f.rawClient(t)

	resp, body := c.do(t, "GET", "/chunked", "HTTP/1.1")
	if body != "body!!!" || resp.Trailer.Get("X-Sum") != "42" || len(resp.TransferEncoding) == 0 {
		t.Errorf("chunked: body %q, trailers %v, encoding %v", body, resp.Trailer, resp.TransferEncoding)
	}
	resp, body = c.do(t, "GET", "/hop", "HTTP/1.1")
	for _, k := range []string{"X-Secret", "Keep-Alive", "Proxy-Authenticate", "Upgrade"} {
		if resp.Header.Get(k) != "" {
			t.Errorf("hop-by-hop %s passed on", k)
		}
	}
	if body != "ok" || resp.Header.Get("X-Kept") != "k" || resp.Header.Get("Date") == "" {
		t.Errorf("hop: %q %v", body, resp.Header)
	}
	if resp, _ := c.do(t, "GET", "/unmodified", "HTTP/1.1"); resp.StatusCode != http.StatusNotModified || resp.Header.Get("Etag") != `"v1"` {
		t.Errorf("304: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, body := c.do(t, "HEAD", "/sized", "HTTP/1.1"); resp.ContentLength != 10 || body != "" {
		t.Errorf("HEAD: length %d body %q", resp.ContentLength, body)
	}
	if _, body := c.do(t, "GET", "/sized", "HTTP/1.1"); body != "0123456789" {
		t.Errorf("sized: %q", body)
	}
	// Everything so far went over one kept-alive backend connection.
	if n := conns.Load(); n != 1 {
		t.Errorf("%d backend connections, want 1", n)
	}

	// An informational answer goes on before the final one.
	if _, err := io.WriteString(c.c, "GET /early HTTP/1.1\r\nHost: acme."+testDomain+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	early, err := http.ReadResponse(c.br, nil)
	if err != nil || early.StatusCode != http.StatusEarlyHints || early.Header.Get("Link") == "" {
		t.Fatalf("103: %v %v", early, err)
	}
	if final, err := http.ReadResponse(c.br, nil); err != nil || final.StatusCode != http.StatusOK {
		t.Fatalf("after the 103: %v %v", final, err)
	} else {
		io.Copy(io.Discard, final.Body)
	}

	// A body that ends with the backend's connection ends the client's too.
	resp, body = c.do(t, "GET", "/until-close", "HTTP/1.1")
	if body != "until the end" || !resp.Close {
		t.Errorf("until close: %q close %v", body, resp.Close)
	}

	// An answer framed two ways is refused, not passed on.
	c = f.rawClient(t)
	if resp, _ := c.do(t, "GET", "/smuggle", "HTTP/1.1"); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("Content-Length with Transfer-Encoding: %d, want 502", resp.StatusCode)
	}
	// What the raw path does not take (HTTP/1.0) goes the long way, same answer.
	if resp, body := c.do(t, "GET", "/hop", "HTTP/1.0"); body != "ok" || resp.Header.Get("X-Secret") != "" {
		t.Errorf("HTTP/1.0: %q %v", body, resp.Header)
	}
}

// A kept-alive connection the backend closed while it was idle in the pool
// is noticed when a request is sent on it (the close came before the wait,
// which alone would miss it): the request goes on a new connection.
func TestRawPathNoticesABackendConnectionClosedWhileIdle(t *testing.T) {
	backend, conns := cannedBackend(t)
	f := newRouterFixture(t, RouterConfig{ResponseHeaderTimeout: 30 * time.Second})
	f.routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{backend}})
	c := f.rawClient(t)
	if _, body := c.do(t, "GET", "/then-close", "HTTP/1.1"); body != "ok" {
		t.Fatalf("first: %q", body)
	}
	time.Sleep(100 * time.Millisecond) // the backend's FIN has come
	// The client's deadline (10 s) is far below the header timeout: a
	// request waiting for an answer on the dead connection fails the test.
	if resp, body := c.do(t, "GET", "/sized", "HTTP/1.1"); resp.StatusCode != http.StatusOK || body != "0123456789" {
		t.Fatalf("after the close: %d %q", resp.StatusCode, body)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d backend connections, want 2", n)
	}
}

func TestParseRawHeadTakesOnlyPlainRequests(t *testing.T) {
	base := "GET /p?q=1 HTTP/1.1\r\nHost: acme.example.test\r\nUser-Agent: curl/8\r\n"
	for head, want := range map[string]bool{
		base + "\r\n":                                  true,
		"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n":           true,
		base + "Connection: keep-alive, close\r\n\r\n": true,
		"POST / HTTP/1.1\r\nHost: a\r\n\r\n":           false,
		"GET / HTTP/1.0\r\nHost: a\r\n\r\n":            false,
		"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n":    false,
		"GET / HTTP/1.1\r\n\r\n":                       false,
		base + "Host: b\r\n\r\n":                       false,
		base + "Content-Length: 0\r\n\r\n":             false,
		base + "Transfer-Encoding: chunked\r\n\r\n":    false,
		base + "Upgrade: websocket\r\n\r\n":            false,
		base + "Connection: X-Other\r\n\r\n":           false,
		base + "Te: trailers\r\n\r\n":                  false,
		base + " folded\r\n\r\n":                       false,
		base + "Bad Name: x\r\n\r\n":                   false,
		base + "Name : x\r\n\r\n":                      false,
		base + "X: a\x00b\r\n\r\n":                     false,
		"GET / HTTP/1.1\nHost: a\n\n":                  false,
	} {
		if _, got := parseRawHead([]byte(head)); got != want {
			t.Errorf("parseRawHead(%q) = %v, want %v", head, got, want)
		}
	}
	h, _ := parseRawHead([]byte(base + "\r\n"))
	if string(h.host) != "acme.example.test" || string(h.path) != "/p" || string(h.agent) != "curl/8" || h.method != "GET" {
		t.Errorf("parsed %+v", h)
	}
}
