package lean

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// front is a lean server on a loopback listener; the Fallback marks its
// answers with X-Served-By: fallback.
type front struct {
	addr string
	srv  *Server
}

func newFront(t *testing.T, h http.Handler, configure func(*Server)) *front {
	t.Helper()
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", "fallback")
		h.ServeHTTP(w, r)
	})
	s := &Server{Handler: h, Take: Plain, Fallback: &http.Server{Handler: fallback, ReadHeaderTimeout: 2 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return &front{addr: ln.Addr().String(), srv: s}
}

// client is one connection to a front, read as an HTTP client reads.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (f *front) dial(t *testing.T) *client {
	t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, raw); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one answer to a request of method, with its body.
func (c *client) read(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("read answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	resp.Body.Close()
	return resp, string(b)
}

// closed reports whether the server closed the connection (within its deadline).
func (c *client) closed() bool {
	_, err := c.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func get(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: t.example\r\n\r\n" }

func framingHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		io.WriteString(w, "b")
	})
	mux.HandleFunc("/sized", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		io.WriteString(w, "abc")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("x"), 3*bufSize+7)) })
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/inject", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Evil", "a\r\nSet-Cookie: x=1")
		w.Header()["Bad Name"] = []string{"v"}
	})
	mux.HandleFunc("/remote", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RemoteAddr) })
	return mux
}

func TestLeanFramesAnswersOnOneConnection(t *testing.T) {
	f := newFront(t, framingHandler(), nil)
	c := f.dial(t)
	for _, tc := range []struct {
		method, path, body string
		length             int64
		chunked            bool
	}{
		{"GET", "/small", "hello", 5, false},
		{"GET", "/stream", "ab", -1, true},
		{"GET", "/sized", "abc", 3, false},
		{"GET", "/big", strings.Repeat("x", 3*bufSize+7), -1, true},
		{"HEAD", "/small", "", 5, false},
		{"GET", "/empty", "", 0, false},
	} {
		c.send(tc.method + " " + tc.path + " HTTP/1.1\r\nHost: t.example\r\n\r\n")
		resp, body := c.read(tc.method)
		if resp.Header.Get("X-Served-By") != "" {
			t.Fatalf("%s %s went to the fallback", tc.method, tc.path)
		}
		chunked := len(resp.TransferEncoding) > 0
		if body != tc.body || resp.ContentLength != tc.length || chunked != tc.chunked {
			t.Errorf("%s %s: body %d bytes, length %d, chunked %v; want %d, %d, %v", tc.method, tc.path,
				len(body), resp.ContentLength, chunked, len(tc.body), tc.length, tc.chunked)
		}
		if resp.Header.Get("Date") == "" {
			t.Errorf("%s %s: no Date", tc.method, tc.path)
		}
	}
	c.send(get("/trailer"))
	resp, body := c.read("GET")
	if body != "body" || resp.Trailer.Get("X-Sum") != "42" {
		t.Errorf("trailer: body %q, trailers %v", body, resp.Trailer)
	}
	c.send(get("/inject"))
	resp, _ = c.read("GET")
	if resp.Header.Get("Set-Cookie") != "" || !strings.Contains(resp.Header.Get("X-Evil"), "Set-Cookie") {
		t.Errorf("a line break in a value made a field: %v", resp.Header)
	}
	// Two requests in one write are answered in turn.
	c.send(get("/remote") + get("/small"))
	_, first := c.read("GET")
	_, second := c.read("GET")
	if first != c.c.LocalAddr().String() || second != "hello" {
		t.Errorf("pipelined: %q, %q", first, second)
	}
}

func TestLeanHandsTheRestOfAConnectionToTheFallback(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+string(b))
	})
	f := newFront(t, echo, nil)
	c := f.dial(t)
	c.send(get("/"))
	if resp, body := c.read("GET"); resp.Header.Get("X-Served-By") != "" || body != "GET " {
		t.Fatalf("first GET: %v %q", resp.Header, body)
	}
	c.send("POST / HTTP/1.1\r\nHost: t.example\r\nContent-Length: 5\r\n\r\nhello")
	if resp, body := c.read("POST"); resp.Header.Get("X-Served-By") != "fallback" || body != "POST hello" {
		t.Fatalf("POST: %v %q", resp.Header, body)
	}
	c.send(get("/"))
	if resp, body := c.read("GET"); resp.Header.Get("X-Served-By") != "fallback" || body != "GET " {
		t.Fatalf("GET after the POST: %v %q", resp.Header, body)
	}
	for name, raw := range map[string]string{
		"upgrade":   "GET / HTTP/1.1\r\nHost: t.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"long head": "GET / HTTP/1.1\r\nHost: t.example\r\nX-Long: " + strings.Repeat("a", 2*bufSize) + "\r\n\r\n",
		"no host":   "GET / HTTP/1.1\r\n\r\n",
	} {
		c := f.dial(t)
		c.send(raw)
		resp, _ := c.read("GET")
		if resp.Header.Get("X-Served-By") != "fallback" && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: served by the lean loop (%d)", name, resp.StatusCode)
		}
	}
	c = f.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: t.example\r\nBad Field: x\r\n\r\n")
	if resp, _ := c.read("GET"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed head: %d, want net/http's 400", resp.StatusCode)
	}
}

func TestLeanHTTP10AndConnectionClose(t *testing.T) {
	f := newFront(t, framingHandler(), nil)
	c := f.dial(t)
	c.send("GET /small HTTP/1.0\r\nHost: t.example\r\nConnection: keep-alive\r\n\r\n")
	if resp, body := c.read("GET"); body != "hello" || resp.Close {
		t.Fatalf("1.0 keep-alive: %q close %v", body, resp.Close)
	}
	c.send("GET /stream HTTP/1.0\r\nHost: t.example\r\nConnection: keep-alive\r\n\r\n")
	if resp, body := c.read("GET"); body != "ab" || !resp.Close || !c.closed() {
		t.Fatalf("1.0 stream: %q close %v; want the body ended by closing", body, resp.Close)
	}
	c = f.dial(t)
	c.send("GET /small HTTP/1.1\r\nHost: t.example\r\nConnection: close\r\n\r\n")
	if resp, _ := c.read("GET"); !resp.Close || !c.closed() {
		t.Fatal("Connection: close left the connection open")
	}
}

func TestLeanCancelsARequestWhoseClientLeft(t *testing.T) {
	cancelled := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			select {
			case <-r.Context().Done():
				close(cancelled)
			case <-time.After(5 * time.Second):
			}
			return
		}
		time.Sleep(100 * time.Millisecond) // the watch reads while this runs
		io.WriteString(w, r.URL.Path)
	})
	f := newFront(t, slow, func(s *Server) { s.WatchAfter = 10 * time.Millisecond })
	// A request sent while the previous one runs is read by the watch
	// and answered next.
	c := f.dial(t)
	c.send(get("/one"))
	time.Sleep(50 * time.Millisecond)
	c.send(get("/two"))
	if _, b := c.read("GET"); b != "/one" {
		t.Fatalf("first: %q", b)
	}
	if _, b := c.read("GET"); b != "/two" {
		t.Fatalf("second: %q", b)
	}
	c = f.dial(t)
	c.send(get("/wait"))
	time.Sleep(50 * time.Millisecond)
	c.c.Close()
	select {
	case <-cancelled:
	case <-time.After(3 * time.Second):
		t.Fatal("the request's context was not cancelled when its client left")
	}
}

func TestLeanShutdownClosesIdleAndAwaitsInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	})
	f := newFront(t, h, nil)
	idle := f.dial(t)
	idle.send(get("/"))
	idle.read("GET")
	busy := f.dial(t)
	busy.send(get("/hold"))
	<-started
	shut := make(chan error, 1)
	go func() { shut <- f.srv.Shutdown(context.Background()) }()
	if !idle.closed() {
		t.Fatal("the idle connection stayed open")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if resp, body := busy.read("GET"); body != "done" || !resp.Close {
		t.Errorf("in-flight answer %q close %v", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if c, err := net.Dial("tcp", f.addr); err == nil {
		c.Close()
		t.Error("still accepting after Shutdown")
	}
}

func TestLeanPanicClosesOnlyItsConnection(t *testing.T) {
	var logged bytes.Buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/abort":
			io.WriteString(w, "part")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case "/panic":
			panic("boom")
		}
		io.WriteString(w, "ok")
	})
	f := newFront(t, h, func(s *Server) { s.Fallback.ErrorLog = log.New(&logged, "", 0) })
	for _, path := range []string{"/abort", "/panic"} {
		c := f.dial(t)
		c.send(get(path))
		resp, err := http.ReadResponse(c.br, nil)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
		}
		if err == nil {
			t.Errorf("%s: a whole answer", path)
		}
	}
	c := f.dial(t)
	c.send(get("/"))
	if _, body := c.read("GET"); body != "ok" {
		t.Errorf("after panics: %q", body)
	}
	if s := logged.String(); !strings.Contains(s, "boom") || strings.Contains(s, "abort") {
		t.Errorf("log: %q; want the panic, not the abort", s)
	}
}

func TestLeanHeaderTimeout(t *testing.T) {
	f := newFront(t, framingHandler(), func(s *Server) { s.Fallback.ReadHeaderTimeout = 200 * time.Millisecond })
	c := f.dial(t)
	c.send("GET /small HTTP/1.1\r\nHost: t.exa")
	start := time.Now()
	if !c.closed() || time.Since(start) > 3*time.Second {
		t.Fatal("a head that never ends kept its connection")
	}
}

func TestLeanFastAnswersFromTheHead(t *testing.T) {
	type key struct{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := r.Context().Value(key{}).(string)
		io.WriteString(w, "handler "+v)
	})
	f := newFront(t, h, func(s *Server) {
		s.Fast = func(ctx context.Context, head []byte, remote string, w *bufio.Writer) (bool, bool, context.Context) {
			if bytes.HasPrefix(head, []byte("GET /fast ")) {
				w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast")
				w.Flush()
				return true, true, ctx
			}
			return false, false, context.WithValue(ctx, key{}, "with the context Fast gave")
		}
	})
	c := f.dial(t)
	c.send(get("/fast"))
	if _, body := c.read("GET"); body != "fast" {
		t.Errorf("fast: %q", body)
	}
	c.send(get("/slow"))
	if _, body := c.read("GET"); body != "handler with the context Fast gave" {
		t.Errorf("not fast: %q", body)
	}
}

func TestHeadEnd(t *testing.T) {
	for in, want := range map[string]int{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest": 27,
		"GET / HTTP/1.1\nHost: a\n\nrest":       24,
		"GET / HTTP/1.1\r\nHost: a\r\n":         0,
		"":                                      0,
	} {
		if got := headEnd([]byte(in)); got != want {
			t.Errorf("headEnd(%q) = %d, want %d", in, got, want)
		}
	}
}
