// Command testserver is the program of the orchestrator tests' image: a small
// HTTP server that keeps a value on the /data volume and stops on SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const dataFile = "/data/value"

func main() {
	// "server check" is the image's healthcheck: FROM scratch has no curl.
	if len(os.Args) > 1 && os.Args[1] == "check" {
		c := &http.Client{Timeout: time.Second}
		resp, err := c.Get("http://127.0.0.1:8080/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}
	// First, so that a stop soon after the start is a graceful one.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	addr := ":8080"
	if a := os.Getenv("ADDR"); a != "" {
		addr = a
	}
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	mux := routes(log)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	go func() {
		<-ctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
	log.Info("stopped")
}

// routes are the test image's endpoints: health, a value kept on the
// volume, memory ballast, writes to test the read-only root, and whoami.
func routes(log *slog.Logger) *http.ServeMux {
	ballast := [][]byte{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /data", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = os.WriteFile(dataFile, body, 0o644)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		log.Info("stored", "bytes", len(body))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /data", func(w http.ResponseWriter, r *http.Request) {
		body, err := os.ReadFile(dataFile)
		if errors.Is(err, os.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(body)
	})
	// POST /ballast holds 8 MiB more of touched memory, for memory stats.
	mux.HandleFunc("POST /ballast", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8<<20)
		for i := range b {
			b[i] = byte(i)
		}
		ballast = append(ballast, b)
		fmt.Fprintln(w, len(ballast)*8, "MiB")
	})
	// POST /write?path=P writes a byte to P, to show which paths are writable.
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		if err := os.WriteFile(r.URL.Query().Get("path"), []byte("x"), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d:%d\n", os.Getuid(), os.Getgid())
	})
	return mux
}
