package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"time"

	"golang.org/x/sync/errgroup"

	"appfactory/handlers"
	"appfactory/mail"
	"appfactory/store"
)

// mailConfig is how the portal sends mail.
type mailConfig struct {
	SMTPURL     string
	From        string
	Timeout     time.Duration
	VerifyEmail bool
}

func (c *mailConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "SMTP server mail is sent through: smtp://user:pass@host:port (STARTTLS when offered) or smtps://user:pass@host:port (implicit TLS); unset, mails are kept in the development outbox admins read at /admin/outbox (prefer APPFACTORY_SMTP_URL: a flag shows in ps)")
	fs.StringVar(&c.From, "mail-from", "", "sender of the portal's mail (default: appfactory <noreply@<domain>>)")
	fs.DurationVar(&c.Timeout, "smtp-timeout", 30*time.Second, "how long one delivery to the SMTP server may take")
	fs.BoolVar(&c.VerifyEmail, "verify-email", true, "require a confirmed email before an account deploys (its trial can be built before); applies when --smtp-url is set, since the development outbox reaches nobody")
}

// mailSide is the portal's mail: the composer, and the relay and notice
// loops.
type mailSide struct {
	composer *mail.Composer
	relay    *mail.Relay // nil without SMTP: the development outbox
	notices  *mail.Notices
	require  bool
}

func newMailSide(ctx context.Context, cfg serveConfig, db *store.DB, addr net.Addr, tenantURL func(string) string, logger *slog.Logger) (*mailSide, error) {
	key, err := mailSigningKey(ctx, db)
	if err != nil {
		return nil, err
	}
	ms := &mailSide{composer: &mail.Composer{Portal: portalOrigin(cfg, addr), TenantURL: tenantURL, Key: key}}
	if cfg.Mail.SMTPURL != "" {
		s, err := mail.ParseURL(cfg.Mail.SMTPURL)
		if err != nil {
			return nil, err
		}
		s.Timeout = cfg.Mail.Timeout
		from := cfg.Mail.From
		if from == "" {
			from = "appfactory <noreply@" + cfg.Domain + ">"
		}
		if _, err := netmail.ParseAddress(from); err != nil {
			return nil, fmt.Errorf("--mail-from %q: %w", from, err)
		}
		ms.relay = mail.NewRelay(mail.Relay{DB: db, Sender: s, From: from, Lease: cfg.Mail.Timeout * 4, Logger: logger})
		ms.require = cfg.Mail.VerifyEmail
		logger.Info("mail", slog.String("smtp", s.Redacted()), slog.String("from", from), slog.Bool("verify_email", ms.require))
	} else {
		logger.Info("mail: no --smtp-url, mails are kept in the development outbox at /admin/outbox; email confirmation is not required")
	}
	ms.notices = &mail.Notices{DB: db, Composer: ms.composer, Sent: ms.wake, Logger: logger}
	return ms, nil
}

func (ms *mailSide) wake() {
	if ms.relay != nil {
		ms.relay.Wake()
	}
}

// reportNotices passes each trial notice on to the webhooks, so that a
// sales tool hears of a trial expiring when its owner is told.
func (ms *mailSide) reportNotices(hooks interface {
	OnNotice(ctx context.Context, kind string, t *store.Tenant) error
}, logger *slog.Logger) {
	ms.notices.OnNotice = func(ctx context.Context, kind string, t *store.Tenant) {
		if err := hooks.OnNotice(ctx, kind, t); err != nil {
			logger.Warn("queue the webhooks of a notice", slog.String("tenant", t.ID), slog.String("kind", kind), slog.Any("err", err))
		}
	}
}

// handlers is what the portal's handlers use of the mail.
func (ms *mailSide) handlers() handlers.Mail {
	return handlers.Mail{Composer: ms.composer, RequireVerified: ms.require, Relay: ms.relay != nil, Sent: ms.wake}
}

// run starts the notice loop and, with SMTP, the relay.
func (ms *mailSide) run(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return ms.notices.Run(ctx) })
	if ms.relay != nil {
		g.Go(func() error { return ms.relay.Run(ctx) })
	}
}

// portalOrigin is the portal's public origin, for links in mails:
// http://<domain>:<port>, or https://<domain> behind a TLS front proxy.
func portalOrigin(cfg serveConfig, addr net.Addr) string {
	scheme, port := "http", ""
	if _, p, err := net.SplitHostPort(addr.String()); err == nil && p != "80" {
		port = ":" + p
	}
	if cfg.TLS {
		scheme, port = "https", ""
	}
	return scheme + "://" + cfg.Domain + port
}

// mailSigningKey signs unsubscribe links, made once per data directory.
func mailSigningKey(ctx context.Context, db *store.DB) ([]byte, error) {
	v, err := db.Meta(ctx, "mail_signing_key")
	if err != nil {
		return nil, fmt.Errorf("read mail signing key: %w", err)
	}
	if v == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		v = hex.EncodeToString(b)
		if err := db.SetMeta(ctx, "mail_signing_key", v); err != nil {
			return nil, fmt.Errorf("write mail signing key: %w", err)
		}
	}
	return hex.DecodeString(v)
}
