package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"appfactory/orchestrator/hostwall"
	"appfactory/orchestrator/stack"
)

// wallTimeout bounds the install of the host wall: iptables
// waits at most a few seconds for the lock Docker's own changes hold.
const wallTimeout = 20 * time.Second

// installWall puts up the rules that keep tenant containers from opening
// connections to the host; nil (and no rule) when --wall-off-host=false.
// They stay up when serve stops: its tenants go on running without it.
func installWall(ctx context.Context, on bool, pool *stack.SubnetPool, logger *slog.Logger) (*hostwall.Wall, error) {
	if !on {
		logger.Warn("host not walled off: tenant containers reach every port the host listens on (--wall-off-host=false)", slog.String("subnet_pool", pool.String()))
		return nil, nil
	}
	prefix, err := netip.ParsePrefix(pool.String())
	if err != nil {
		return nil, err
	}
	w, err := hostwall.New(prefix)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, wallTimeout)
	defer cancel()
	if err := w.Install(ictx); err != nil {
		return nil, wallError(err)
	}
	logger.Info("host walled off from tenants", slog.String("chain", w.Chain), slog.String("subnet_pool", prefix.String()),
		slog.String("rules", strings.Join(w.Rules(), "; ")))
	return w, nil
}

// wallError says what to do when the wall cannot go up.
func wallError(err error) error {
	const optOut = "or pass --wall-off-host=false (APPFACTORY_WALL_OFF_HOST=false) and keep tenants off the host yourself"
	switch {
	case errors.Is(err, hostwall.ErrNoPrivilege):
		return fmt.Errorf("wall off the host from tenants: %w: run appfactory serve as root or with CAP_NET_ADMIN, %s", err, optOut)
	case errors.Is(err, hostwall.ErrNoIptables):
		return fmt.Errorf("wall off the host from tenants: %w: install iptables (Debian: apt-get install iptables), %s", err, optOut)
	}
	return fmt.Errorf("wall off the host from tenants: %w", err)
}
