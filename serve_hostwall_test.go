package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"appfactory/orchestrator/hostwall"
	"appfactory/orchestrator/stack"
)

// TestServeWallsOffHost: serve puts its wall up for its pool before it is
// up, says so, and takes it down when it stops.
func TestServeWallsOffHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host wall needs root")
	}
	// A pool of the test's own, where no container lives.
	pool := fmt.Sprintf("10.250.%d.0/24", 1+rand.IntN(254))
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
	jump := "-A INPUT -s " + pool + " ! -i lo -j " + chain
	if out := iptablesS(t, "INPUT"); !strings.Contains(out, jump+"\n") {
		t.Errorf("INPUT lacks %q:\n%s", jump, out)
	}
	if out := iptablesS(t, chain); !strings.Contains(out, "--reject-with tcp-reset") {
		t.Errorf("chain %s:\n%s", chain, out)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `msg="host wall removed" chain=`+chain) {
		t.Errorf("no removal in the log:\n%s", stderr.String())
	}
	if out := iptablesS(t, "INPUT"); strings.Contains(out, chain) {
		t.Errorf("INPUT still jumps to %s after serve stopped:\n%s", chain, out)
	}
	if out, err := exec.Command("iptables", "-w", "5", "-S", chain).CombinedOutput(); err == nil {
		t.Errorf("chain %s left after serve stopped:\n%s", chain, out)
	}
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
	w, err := installWall(context.Background(), false, "optout", pool, slog.New(slog.DiscardHandler))
	if w != nil || err != nil {
		t.Fatalf("installWall off = %v, %v", w, err)
	}
	removeWall(context.Background(), nil, slog.New(slog.DiscardHandler))
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
