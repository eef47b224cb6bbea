package main

import (
	"flag"
	"log/slog"
	"net/netip"
	"time"

	"appfactory/store"
	"appfactory/webhooks"
)

// webhookConfig configures the webhooks' deliveries.
type webhookConfig struct {
	AllowLoopback       bool
	AllowTenantNetworks bool
	Timeout             time.Duration
	MaxAttempts         int
}

func (c *webhookConfig) flags(fs *flag.FlagSet) {
	fs.BoolVar(&c.AllowLoopback, "webhook-allow-loopback", false, "let webhooks be sent to loopback addresses (127.0.0.0/8, ::1), e.g. a receiver on this host")
	fs.BoolVar(&c.AllowTenantNetworks, "webhook-allow-tenant-networks", false, "let webhooks be sent to the tenant networks (the subnet pool)")
	fs.DurationVar(&c.Timeout, "webhook-timeout", 10*time.Second, "how long one webhook delivery attempt may take, answer included")
	fs.IntVar(&c.MaxAttempts, "webhook-max-attempts", 8, "attempts of one webhook delivery before it is given up (backoff from 30s, doubling, at most 1h)")
}

// newWebhooks wires the webhooks' service and dispatcher, whose guard
// refuses the tenant networks of pool.
func newWebhooks(cfg webhookConfig, pool string, db *store.DB, logger *slog.Logger) (*webhooks.Service, *webhooks.Dispatcher, error) {
	p, err := netip.ParsePrefix(pool)
	if err != nil {
		return nil, nil, err
	}
	g := &webhooks.Guard{AllowLoopback: cfg.AllowLoopback, AllowTenantNetworks: cfg.AllowTenantNetworks, Tenants: []netip.Prefix{p}}
	d := &webhooks.Dispatcher{DB: db, Guard: g, Logger: logger, Timeout: cfg.Timeout, MaxAttempts: cfg.MaxAttempts}
	s := &webhooks.Service{DB: db, Guard: g, Logger: logger, Wake: d.Wake}
	return s, d, nil
}
