package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"appfactory/web"
)

// TestShutdownLetsInFlightRequestsFinish cancels the server's context while
// a request is being served: the request still gets its whole answer, new
// connections are refused, and ListenAndServe returns without error.
func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	s := web.New(web.Options{Domain: "localhost"})
	started, release := make(chan struct{}), make(chan struct{})
	s.Echo().GET("/slow", func(c echoContext) error {
		close(started)
		<-release
		return c.String(http.StatusOK, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServe(ctx, ln, 5*time.Second) }()

	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	url := "http://" + ln.Addr().String() + "/slow"
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	<-started
	cancel()
	// Shutdown has begun once the listener refuses new connections; only
	// then does the request in flight finish.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts 5 s after the cancellation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)

	r := <-got
	if r.err != nil || r.code != http.StatusOK || r.body != "finished" {
		t.Fatalf("in-flight request during shutdown: %d %q %v", r.code, r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("ListenAndServe after shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return after shutdown")
	}
	if _, err := http.Get(url); err == nil {
		t.Error("a new request was served after shutdown")
	}
}

// TestShutdownGraceBoundsSlowRequests: a request slower than the grace
// period does not hold shutdown up beyond it.
func TestShutdownGraceBoundsSlowRequests(t *testing.T) {
	s := web.New(web.Options{Domain: "localhost"})
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	s.Echo().GET("/stuck", func(c echoContext) error {
		close(started)
		<-release
		return nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServe(ctx, ln, 200*time.Millisecond) }()
	go func() {
		if resp, err := http.Get("http://" + ln.Addr().String() + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	begin := time.Now()
	cancel()
	select {
	case err := <-served:
		if err == nil {
			t.Error("shutdown past its grace reported no error")
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("shutdown took %v with a grace of 200ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return after its grace")
	}
}
