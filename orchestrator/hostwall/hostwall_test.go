package hostwall

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestChainName(t *testing.T) {
	for pool, want := range map[string]string{
		"10.213.0.0/16":      "AF-IN-10.213.0.0-16",
		"192.168.100.128/25": "AF-IN-192.168.100.128-25",
		"255.255.255.255/32": "AF-IN-255.255.255.255-32",
	} {
		got := ChainName(netip.MustParsePrefix(pool))
		if got != want || len(got) > maxChainName {
			t.Errorf("ChainName(%s) = %q, want %q (at most %d characters)", pool, got, want, maxChainName)
		}
	}
}

func TestNewRefusesPool(t *testing.T) {
	for _, p := range []string{"fd00::/64", "10.213.0.5/16"} {
		if _, err := New(netip.MustParsePrefix(p)); err == nil {
			t.Errorf("pool %s accepted", p)
		}
	}
	if _, err := New(netip.Prefix{}); err == nil {
		t.Error("the zero pool accepted")
	}
}

// TestRules is what serve logs and the README shows.
func TestRules(t *testing.T) {
	w, err := New(netip.MustParsePrefix("10.213.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-A INPUT -s 10.213.0.0/16 ! -i lo -j AF-IN-10.213.0.0-16",
		"-N AF-IN-10.213.0.0-16",
		"-A AF-IN-10.213.0.0-16 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"-A AF-IN-10.213.0.0-16 -p tcp -j REJECT --reject-with tcp-reset",
		"-A AF-IN-10.213.0.0-16 -j REJECT --reject-with icmp-port-unreachable",
	}
	if got := w.Rules(); !slices.Equal(got, want) {
		t.Errorf("Rules =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestErrorsSayWhy: iptables refusing for want of privilege, and no
// iptables at all, come out as the errors serve explains.
func TestErrorsSayWhy(t *testing.T) {
	dir := t.TempDir()
	denied := filepath.Join(dir, "iptables-denied")
	script := "#!/bin/sh\necho 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)' >&2\nexit 4\n"
	if err := os.WriteFile(denied, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := New(netip.MustParsePrefix("10.250.0.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.Iptables = denied
	for name, f := range map[string]func(context.Context) error{"install": w.Install, "remove": w.Remove} {
		if err := f(ctx); !errors.Is(err, ErrNoPrivilege) || !strings.Contains(err.Error(), "Permission denied") {
			t.Errorf("%s without privilege: %v, want ErrNoPrivilege with iptables' words", name, err)
		}
	}
	w.Iptables = filepath.Join(dir, "no-such-iptables")
	if err := w.Install(ctx); !errors.Is(err, ErrNoIptables) {
		t.Errorf("install without iptables: %v, want ErrNoIptables", err)
	}
}

// testWall is the wall of a pool unique to the run: the pool's addresses
// are no container's (other tests' networks live in 10.213-10.219), so its
// rules change nothing for anyone. It is taken down when the test ends.
func testWall(t *testing.T, pool netip.Prefix) *Wall {
	t.Helper()
	w, err := New(pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Remove(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return w
}

// testPools hands out /28s of 10.251.0.0/16, never the same one twice in
// this process: a wall is the pool's, so two tests on one pool would take
// each other's down. No other package's tests use 10.251.
var testPools = struct {
	sync.Mutex
	used map[netip.Prefix]bool
}{used: map[netip.Prefix]bool{}}

func testPool() netip.Prefix {
	testPools.Lock()
	defer testPools.Unlock()
	for {
		n := mrand.IntN(4096) << 4
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 251, byte(n >> 8), byte(n)}), 28)
		if !testPools.used[p] {
			testPools.used[p] = true
			return p
		}
	}
}

// needIptables skips a test of the real firewall when this process may not
// change it (CI and `make test` run as root).
func needIptables(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("no iptables:", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("changing the firewall needs root")
	}
}

// iptablesS is `iptables -S <chain>`; ok is false when the chain is missing.
func iptablesS(t *testing.T, chain string) (lines []string, ok bool) {
	t.Helper()
	out, err := exec.Command("iptables", "-w", "5", "-S", chain).CombinedOutput()
	if err != nil {
		return nil, false
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n"), true
}

// inputJumps are the lines of INPUT that jump to chain.
func inputJumps(t *testing.T, chain string) []string {
	t.Helper()
	lines, ok := iptablesS(t, "INPUT")
	if !ok {
		t.Fatal("iptables -S INPUT failed")
	}
	var out []string
	for _, l := range lines {
		if strings.HasSuffix(l, " -j "+chain) {
			out = append(out, l)
		}
	}
	return out
}

// checkUp fails unless the wall is up exactly once, as Rules says.
func checkUp(t *testing.T, w *Wall) {
	t.Helper()
	rules := w.Rules()
	if got := inputJumps(t, w.Chain); !slices.Equal(got, rules[:1]) {
		t.Errorf("INPUT jumps to %s: %q, want %q", w.Chain, got, rules[:1])
	}
	if got, ok := iptablesS(t, w.Chain); !ok || !slices.Equal(got, rules[1:]) {
		t.Errorf("iptables -S %s =\n%s\nwant\n%s", w.Chain, strings.Join(got, "\n"), strings.Join(rules[1:], "\n"))
	}
}

// checkDown fails if anything of the wall is left.
func checkDown(t *testing.T, w *Wall) {
	t.Helper()
	if got := inputJumps(t, w.Chain); len(got) != 0 {
		t.Errorf("INPUT still jumps to %s: %q", w.Chain, got)
	}
	if got, ok := iptablesS(t, w.Chain); ok {
		t.Errorf("chain %s is still there: %q", w.Chain, got)
	}
}

func TestInstallRemoveIdempotent(t *testing.T) {
	needIptables(t)
	t.Parallel()
	ctx := context.Background()
	w := testWall(t, testPool())
	for i := range 2 {
		if err := w.Install(ctx); err != nil {
			t.Fatalf("install %d: %v", i+1, err)
		}
		checkUp(t, w)
	}
	for i := range 2 {
		if err := w.Remove(ctx); err != nil {
			t.Fatalf("remove %d: %v", i+1, err)
		}
		checkDown(t, w)
	}
}

// TestInstallRepairs: a chain holding something else is refilled, and a
// jump to it with another source (put there by hand) goes once the pool's
// own is in.
func TestInstallRepairs(t *testing.T) {
	needIptables(t)
	t.Parallel()
	ctx := context.Background()
	pool := testPool()
	w := testWall(t, pool)
	if err := w.Install(ctx); err != nil {
		t.Fatal(err)
	}
	old := netip.PrefixFrom(pool.Addr(), 29)
	for _, args := range [][]string{
		{"-A", w.Chain, "-j", "ACCEPT"},
		{"-D", w.Chain, "1"},
		{"-I", "INPUT", "1", "-s", old.String(), "-j", w.Chain},
	} {
		if out, err := exec.Command("iptables", append([]string{"-w", "5"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("iptables %v: %v %s", args, err, out)
		}
	}
	if err := w.Install(ctx); err != nil {
		t.Fatal(err)
	}
	checkUp(t, w)
}

// TestInstancesShareTheirPoolsWall: two instances on one pool put up one
// wall (the second install finds it up); the wall of another pool is its
// own, and taking one down leaves the other up.
func TestInstancesShareTheirPoolsWall(t *testing.T) {
	needIptables(t)
	t.Parallel()
	ctx := context.Background()
	pool := testPool()
	a, again, other := testWall(t, pool), testWall(t, pool), testWall(t, testPool())
	for _, w := range []*Wall{a, again, other} {
		if err := w.Install(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if a.Chain != again.Chain {
		t.Fatalf("one pool, two chains: %s and %s", a.Chain, again.Chain)
	}
	checkUp(t, a)
	checkUp(t, other)
	if err := other.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	checkDown(t, other)
	checkUp(t, a)
}

// TestUnprivileged runs the real iptables without root's privileges, as a
// serve started by a plain user would.
func TestUnprivileged(t *testing.T) {
	needIptables(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv:", err)
	}
	ipt, _ := exec.LookPath("iptables")
	wrapper := filepath.Join(t.TempDir(), "iptables-as-nobody")
	script := fmt.Sprintf("#!/bin/sh\nexec %s --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all %s \"$@\"\n", setpriv, ipt)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w := testWall(t, testPool())
	w.Iptables = wrapper
	if err := w.Install(context.Background()); !errors.Is(err, ErrNoPrivilege) {
		t.Errorf("install as nobody: %v, want ErrNoPrivilege", err)
	}
	w.Iptables = ""
}
