package swarm

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckDialer(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root, as serve --runtime swarm does")
	}
	for _, tc := range []struct {
		dir string
		ok  bool
	}{{dir, true}, {filepath.Join(dir, "not-yet"), true}, {file, false}} {
		if err := checkDialer(tc.dir); (err == nil) != tc.ok {
			t.Errorf("checkDialer(%s) = %v, want ok %v", tc.dir, err, tc.ok)
		}
	}
}

func TestSandboxNameAndLookup(t *testing.T) {
	if got := sandboxName("sxw67cvl1jdus7w0t463nggji"); got != "1-sxw67cvl1j" {
		t.Errorf("sandboxName = %s", got)
	}
	o := overlays{subnets: map[netip.Prefix]string{netip.MustParsePrefix("10.249.7.0/28"): "net-a"}}
	if id, ok := o.lookup(netip.MustParseAddr("10.249.7.2")); !ok || id != "net-a" {
		t.Errorf("lookup in the subnet: %s %v", id, ok)
	}
	if _, ok := o.lookup(netip.MustParseAddr("10.249.7.16")); ok {
		t.Error("an address past the subnet was found")
	}
}
