// Command dialprobe is the program of the host wall's test image: an HTTP
// server on :8080 (the host dials it, as the router does) that dials an
// address it is given from inside the container and says what came back.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	// GET /dial?addr=host:port connects to addr and answers 200 with the
	// first bytes the peer sent, or 502 with the dial's error.
	mux.HandleFunc("GET /dial", func(w http.ResponseWriter, r *http.Request) {
		c, err := net.DialTimeout("tcp", r.URL.Query().Get("addr"), 2*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 64)
		n, err := io.ReadAtLeast(c, b, 1)
		if err != nil {
			http.Error(w, "read: "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Write(b[:n])
	})
	// GET /addrs lists the container's interface addresses, one a line.
	mux.HandleFunc("GET /addrs", func(w http.ResponseWriter, r *http.Request) {
		ifs, err := net.Interfaces()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, i := range ifs {
			addrs, _ := i.Addrs()
			for _, a := range addrs {
				fmt.Fprintf(w, "%s %s\n", i.Name, a)
			}
		}
	})
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
