package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"appfactory/orchestrator/hostwall"
	"appfactory/orchestrator/stack"
)

// TestServeWallsOffHost: serve puts the wall of its pool up before it is
// up and says so; the wall stays up when serve stops, since the tenants
// go on running, and a second start finds it in place.
func TestServeWallsOffHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host wall needs root")
	}
	// A pool of the test's own, where no container lives (10.252 is no
	// other test's), with its wall taken down when the test ends.
	pool := fmt.Sprintf("10.252.%d.0/24", rand.IntN(256))
	w, err := hostwall.New(netip.MustParsePrefix(pool))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Remove(context.Background()); err != nil {
			t.Errorf("take the wall down: %v", err)
		}
	})
	// Twice, each a new instance (data directory) on the same pool.
	for range 2 {
		serveWalled(t, pool, w)
	}
}

// serveWalled runs serve on pool until it is up, checks the wall, stops
// serve and checks that the wall stayed.
func serveWalled(t *testing.T, pool string, w *hostwall.Wall) {
	t.Helper()
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--subnet-pool", pool}, io.Discard, &stderr)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "appfactory is up at"); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("serve ended before it was up: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never came up:\n%s", stderr.String())
		}
	}
	m := regexp.MustCompile(`msg="host walled off from tenants" chain=(AF-IN-\S+) subnet_pool=(\S+)`).FindStringSubmatch(stderr.String())
	if m == nil || m[2] != pool {
		t.Fatalf("no wall for %s in the log:\n%s", pool, stderr.String())
	}
	chain := m[1]
	if chain != w.Chain {
		t.Errorf("serve's chain %s, want the pool's %s", chain, w.Chain)
	}
	jump := "-A INPUT -s " + pool + " ! -i lo -j " + chain
	check := func(when string) {
		t.Helper()
		out := iptablesS(t, "INPUT")
		if !strings.Contains(out, jump+"\n") || strings.Count(out, "-j "+chain) != 1 {
			t.Errorf("%s: INPUT lacks %q, or has it twice:\n%s", when, jump, out)
		}
		if out := iptablesS(t, chain); !strings.Contains(out, "--reject-with tcp-reset") {
			t.Errorf("%s: chain %s:\n%s", when, chain, out)
		}
	}
	check("serve running")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", stderr.String())
	}
	check("serve stopped")
}

func iptablesS(t *testing.T, chain string) string {
	t.Helper()
	out, err := exec.Command("iptables", "-w", "5", "-S", chain).CombinedOutput()
	if err != nil {
		t.Fatalf("iptables -S %s: %v %s", chain, err, out)
	}
	return string(out)
}

// TestWallOptOut: --wall-off-host=false installs nothing.
func TestWallOptOut(t *testing.T) {
	pool, err := stack.NewSubnetPool(stack.DefaultSubnetPool)
	if err != nil {
		t.Fatal(err)
	}
	w, err := installWall(context.Background(), false, pool, slog.New(slog.DiscardHandler))
	if w != nil || err != nil {
		t.Fatalf("installWall off = %v, %v", w, err)
	}
}

// TestWallErrorSaysWhatToDo: a refusal names the way out.
func TestWallErrorSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{&hostwall.CommandError{Args: []string{"-S", "INPUT"}, Code: 4, Output: "Permission denied (you must be root)"},
			[]string{"root", "CAP_NET_ADMIN", "--wall-off-host=false", "Permission denied"}},
		{fmt.Errorf("%w (not in PATH)", hostwall.ErrNoIptables), []string{"install iptables", "--wall-off-host=false"}},
		{errors.New("iptables -I INPUT: exit status 2"), []string{"wall off the host", "exit status 2"}},
	} {
		msg := wallError(tc.err).Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
	}
}
