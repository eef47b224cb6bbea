package webhooks

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"appfactory/apperr"
)

// Guard decides which addresses a webhook may reach. Loopback, link-local,
// unspecified and multicast addresses and the tenant networks (Tenants)
// are refused unless the operator allows them: a hook must not become a
// way for an admin's typo, or a DNS name that changes its answer, to make
// the portal call itself, the cloud's metadata service or a tenant.
type Guard struct {
	// AllowLoopback lets hooks reach 127.0.0.0/8 and ::1.
	AllowLoopback bool
	// AllowTenantNetworks lets hooks reach the tenant subnet pool.
	AllowTenantNetworks bool
	// Tenants are the tenant networks' prefixes (serve's subnet pool).
	Tenants []netip.Prefix
	// Resolver looks names up at registration (net.DefaultResolver when nil).
	Resolver *net.Resolver
}

// CheckAddr refuses an address a hook may not reach, saying why.
func (g *Guard) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return fmt.Errorf("no address")
	case a.IsUnspecified():
		return fmt.Errorf("%s is an unspecified address", a)
	case a.IsLoopback():
		if !g.AllowLoopback {
			return fmt.Errorf("%s is a loopback address", a)
		}
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return fmt.Errorf("%s is a link-local address", a)
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return fmt.Errorf("%s is a multicast address", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s is the broadcast address", a)
	}
	if !g.AllowTenantNetworks {
		for _, p := range g.Tenants {
			if p.Contains(a) {
				return fmt.Errorf("%s is on the tenant networks (%s)", a, p)
			}
		}
	}
	return nil
}

// CheckURL validates a hook's URL at registration: http or https, a host,
// no credentials, and every address its host resolves to allowed. The
// answer is an invalid apperr on the url field.
func (g *Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	bad := func(format string, args ...any) error {
		return apperr.FieldError(apperr.Invalid, "url", format, args...)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, bad("Give the URL the events are posted to.")
	}
	if len(raw) > 2048 {
		return nil, bad("The URL is longer than 2048 characters.")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("This is not a URL.")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("Only http and https URLs can receive webhooks.")
	}
	if u.Hostname() == "" {
		return nil, bad("The URL has no host.")
	}
	if u.User != nil {
		return nil, bad("Leave user names and passwords out of the URL: every delivery is signed instead.")
	}
	if u.Fragment != "" {
		return nil, bad("The URL has a #fragment, which is never sent.")
	}
	addrs, err := g.resolve(ctx, u.Hostname())
	if err != nil {
		return nil, bad("The host %s does not resolve.", u.Hostname())
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			return nil, bad("Webhooks may not be sent to %s: %v.", u.Hostname(), err)
		}
	}
	return u, nil
}

func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	return addrs, nil
}

// Control is a net.Dialer Control function that refuses, just before the
// connection is made, an address the guard does not allow: whatever a
// name resolved to at registration, the address dialled is checked.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	if err := g.CheckAddr(ap.Addr()); err != nil {
		return &RefusedError{Addr: address, Reason: err.Error()}
	}
	return nil
}

// RefusedError is a dial the guard refused.
type RefusedError struct{ Addr, Reason string }

func (e *RefusedError) Error() string {
	return "webhook address refused: " + e.Reason
}
