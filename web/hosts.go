package web

import (
	"net"
	"net/netip"
	"strings"
)

// portalHosts are the Host headers the portal answers: its domain,
// localhost and loopback addresses (health checks, metrics scrapers and
// tools on the machine itself), and the address it listens on when that is
// a specific one. Anything else is someone else's name pointed at us.
type portalHosts struct {
	domain string
	listen netip.Addr // zero unless --addr names one address
}

func newPortalHosts(domain, addr string) portalHosts {
	h := portalHosts{domain: NormalizeHost(domain)}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
			h.listen = ip.Unmap()
		}
	}
	return h
}

// portal reports whether the portal answers a Host header.
func (p portalHosts) portal(host string) bool {
	h := NormalizeHost(host)
	if h == "" {
		return false
	}
	if h == p.domain || h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || (p.listen.IsValid() && ip == p.listen)
}

// TenantSlug returns the tenant slug of a Host header for the given domain:
// "acme.localhost:8080" gives "acme". Hosts are normalised (case, port,
// trailing dot); only a single DNS label directly under the domain counts.
func TenantSlug(host, domain string) (string, bool) {
	h := NormalizeHost(host)
	d := NormalizeHost(domain)
	// h ends with "." + d (compared without building that string: this
	// runs for every request to a tenant).
	if d == "" || len(h) <= len(d)+1 || h[len(h)-len(d)-1] != '.' || !strings.HasSuffix(h, d) {
		return "", false
	}
	slug := h[:len(h)-len(d)-1]
	if !validLabel(slug) {
		return "", false
	}
	return slug, true
}

// NormalizeHost lower-cases a host, drops its port and a trailing dot.
func NormalizeHost(host string) string {
	host = strings.TrimSpace(host)
	// Only a host with a colon has a port or brackets: SplitHostPort's
	// error for one without would be an allocation per tenant request.
	if strings.Contains(host, ":") {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
			host = host[1 : len(host)-1]
		}
	}
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(host)
}

// validLabel reports whether s is one DNS label: 1..63 of a-z0-9-, not
// starting or ending with '-'.
func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
