package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"appfactory/store"
)

func TestPortalOriginFollowsDomainAndTLS(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tc := range []struct {
		cfg  serveConfig
		want string
	}{
		{serveConfig{Domain: "localhost"}, "http://localhost:8080"},
		{serveConfig{Domain: "factory.example.com", TLS: true}, "https://factory.example.com"},
	} {
		if got := portalOrigin(tc.cfg, addr); got != tc.want {
			t.Errorf("portalOrigin(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
	if got := portalOrigin(serveConfig{Domain: "example.com"}, &net.TCPAddr{Port: 80}); got != "http://example.com" {
		t.Errorf("port 80: %q", got)
	}
}

func TestMailSideConfiguration(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	url := func(string) string { return "" }

	dev, err := newMailSide(ctx, serveConfig{Domain: "localhost", Mail: mailConfig{VerifyEmail: true}}, db, addr, url, logger)
	if err != nil {
		t.Fatal(err)
	}
	if h := dev.handlers(); h.Relay || h.RequireVerified {
		t.Errorf("without SMTP: %+v, want the development outbox and no confirmation required", h)
	}
	cfg := serveConfig{Domain: "localhost", Mail: mailConfig{SMTPURL: "smtps://u:p@127.0.0.1:2465", VerifyEmail: true}}
	live, err := newMailSide(ctx, cfg, db, addr, url, logger)
	if err != nil {
		t.Fatal(err)
	}
	if h := live.handlers(); !h.Relay || !h.RequireVerified {
		t.Errorf("with SMTP: %+v", h)
	}
	// The signing key is kept: links mailed before a restart still work.
	if string(live.composer.Key) != string(dev.composer.Key) {
		t.Error("a new signing key after a restart")
	}
	for _, bad := range []mailConfig{{SMTPURL: "http://x"}, {SMTPURL: "smtp://127.0.0.1:25", From: "not an address"}} {
		if _, err := newMailSide(ctx, serveConfig{Domain: "localhost", Mail: bad}, db, addr, url, logger); err == nil {
			t.Errorf("%+v accepted", bad)
		} else if strings.Contains(err.Error(), "p@") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
