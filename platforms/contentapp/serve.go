package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"appfactory/platforms/contentapp/config"
	"appfactory/platforms/contentapp/docstore"
	"appfactory/platforms/contentapp/storeapi"
	"appfactory/platforms/contentapp/webui"
)

// shutdownGrace bounds how long in-flight requests may finish after
// SIGTERM; Docker's default stop timeout is 10 s.
const shutdownGrace = 8 * time.Second

func runStore(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	cfg, err := config.Load(env(getenv, "CONTENTAPP_CONFIG_DIR", config.DefaultDir), getenv, log)
	if err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	db, err := docstore.Open(ctx, env(getenv, "CONTENTAPP_DATA", "/data"))
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", slog.Any("err", err))
		}
	}()
	api := storeapi.NewServer(db, cfg.Model, cfg.Components, version, log)
	return serve(ctx, "store", env(getenv, "CONTENTAPP_LISTEN", ":8081"), api.Handler(), log)
}

func runWeb(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	cfg, err := config.Load(env(getenv, "CONTENTAPP_CONFIG_DIR", config.DefaultDir), getenv, log)
	if err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	app, err := webui.New(webui.Options{
		Config:  cfg,
		Version: version,
		Store:   storeapi.NewClient(env(getenv, "CONTENTAPP_STORE_URL", "http://store:8081")),
		Log:     log,
	})
	if err != nil {
		return err
	}
	return serve(ctx, "web", env(getenv, "CONTENTAPP_LISTEN", ":8080"), app.Handler(), log)
}

// serve listens on addr and serves h until ctx is cancelled, then shuts
// down gracefully: no new connections, in-flight requests finish.
func serve(ctx context.Context, role, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("contentapp listening", slog.String("role", role), slog.String("addr", ln.Addr().String()), slog.String("version", version))
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("contentapp shutting down", slog.String("role", role))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
