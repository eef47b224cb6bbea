package webhooks_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"appfactory/webhooks"
)

// FuzzCheckURL feeds the registration check any text: it never panics,
// never resolves a name (the resolver dials nothing), and what it accepts
// is an http(s) URL with a host and no credentials, off the refused
// addresses.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/hook", "https://[::1]/x", "http://10.213.0.1/", "ftp://x/",
		"http://u:p@1.2.3.4/", "http://[::ffff:169.254.169.254]/", "http://0/", "http://%zz/", "https://93.184.215.14/in?x=1#f", ""} {
		f.Add(s)
	}
	g := &webhooks.Guard{Tenants: []netip.Prefix{netip.MustParsePrefix("10.213.0.0/16")}, Resolver: noDNS()}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := g.CheckURL(context.Background(), raw)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted %q as %#v", raw, u)
		}
		a, perr := netip.ParseAddr(u.Hostname())
		if perr != nil {
			return // a name of /etc/hosts, checked by what it maps to
		}
		if a = a.Unmap(); a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() || strings.HasPrefix(a.String(), "10.213.") {
			t.Fatalf("accepted the refused address of %q", raw)
		}
	})
}

// noDNS is a resolver that sends no query: the tests send nothing off
// this host.
func noDNS() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}
