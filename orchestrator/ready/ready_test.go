package ready

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitReady(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int // answered in turn, the last one from then on
		attempts int64
	}{
		{"ok at once", []int{200}, 1},
		{"not found is an answer", []int{404}, 1},
		{"redirect is an answer", []int{302}, 1},
		{"server errors first", []int{503, 502, 500, 204}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if i >= len(tc.statuses) {
					i = len(tc.statuses) - 1
				}
				if tc.statuses[i] == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.statuses[i])
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := WaitReady(ctx, srv.URL+"/healthz"); err != nil {
				t.Fatal(err)
			}
			if got := n.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

func TestWaitReadyServerComesUpLater(t *testing.T) {
	late := serverComingUpLater(t, 150*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WaitReady(ctx, late.url); err != nil {
		t.Fatal(err)
	}
	// How soon after is a figure, not a bound: BenchmarkWaitReadyAfterUp.
	t.Logf("ready %v after the server came up", time.Since(<-late.up))
}

// BenchmarkWaitReadyAfterUp measures how soon after a server comes up a
// prober that was refused until then sees it ready: probing backs off to
// at most 200 ms, so it should stay under that.
func BenchmarkWaitReadyAfterUp(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		late := serverComingUpLater(b, 150*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := WaitReady(ctx, late.url); err != nil {
			b.Fatal(err)
		}
		total += time.Since(<-late.up)
		cancel()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-after-up")
}

// lateServer is an address where nothing listens (attempts are refused)
// until a server comes up on it; up then gives the moment it did.
type lateServer struct {
	url string
	up  chan time.Time
}

// serverComingUpLater starts listening on a free address after the given
// delay: the scenario itself, a server that is not there yet.
func serverComingUpLater(t testing.TB, after time.Duration) lateServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens yet: attempts are refused

	late := lateServer{url: "http://" + addr + "/", up: make(chan time.Time, 1)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go func() {
		time.Sleep(after)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			close(late.up)
			return
		}
		late.up <- time.Now()
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return late
}

func TestWaitReadyGivesUp(t *testing.T) {
	t.Run("nothing listens", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err = WaitReady(ctx, "http://"+addr+"/")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
	t.Run("server that never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		p := DefaultProber()
		p.RequestTimeout = 50 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		if err := p.Wait(ctx, "http://"+ln.Addr().String()+"/"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
	t.Run("bad url", func(t *testing.T) {
		if err := WaitReady(context.Background(), "http://[::1"); err == nil {
			t.Fatal("accepted")
		}
	})
}
