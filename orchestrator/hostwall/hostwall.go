// Package hostwall keeps tenant containers from opening connections to the
// host. A Docker bridge network, internal or not, gives the host an address
// on the bridge (the gateway), and a container's packets to it go through the
// host's INPUT chain, not FORWARD: without a rule of our own every service
// the host listens on is open to code a prospect uploaded.
//
// The wall is one chain per subnet pool, jumped to from the top of INPUT
// for the pool. It accepts what belongs to a connection the host opened
// (the router and the readiness probes dial the containers, whose answers
// come back through INPUT) and rejects the rest at once, so nothing in a
// tenant hangs on a dropped packet. The chain is the pool's, not an
// instance's: every instance on the pool puts up the same rules, and they
// stay up when an instance stops, because its tenants go on running.
//
// It runs the iptables program, as Docker itself does, and needs root or
// CAP_NET_ADMIN.
package hostwall

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
)

// ChainPrefix starts the name of every wall's chain.
const ChainPrefix = "AF-IN-"

// maxChainName is iptables' limit on a chain's name.
const maxChainName = 28

var (
	// ErrNoIptables is returned when the iptables program is not installed.
	ErrNoIptables = errors.New("the iptables program is not installed")
	// ErrNoPrivilege is returned when iptables refuses to change the firewall
	// (the process is not root and lacks CAP_NET_ADMIN).
	ErrNoPrivilege = errors.New("not permitted to change the firewall (needs root or CAP_NET_ADMIN)")
)

// Wall is the INPUT rules that keep one subnet pool off the host.
type Wall struct {
	// Chain is the pool's own chain.
	Chain string
	// Pool is the source network walled off: the tenant subnet pool.
	Pool netip.Prefix
	// Iptables is the program run; empty means iptables from PATH (or
	// /usr/sbin, which a non-root PATH often lacks).
	Iptables string
}

// New returns the wall of a pool. It changes nothing.
func New(pool netip.Prefix) (*Wall, error) {
	if !pool.IsValid() || !pool.Addr().Is4() || pool != pool.Masked() {
		return nil, fmt.Errorf("host wall: pool %s is not an IPv4 network", pool)
	}
	return &Wall{Chain: ChainName(pool), Pool: pool}, nil
}

// ChainName is the chain of a pool: AF-IN-10.213.0.0-16 for 10.213.0.0/16
// (at most 24 characters, within iptables' 28).
func ChainName(pool netip.Prefix) string {
	return ChainPrefix + strings.ReplaceAll(pool.String(), "/", "-")
}

// jump is the rule in INPUT (without "-A INPUT"). Packets from the pool
// arriving on lo are the host's own (it dialled one of its addresses on a
// tenant bridge, which is then the source): a container's never do.
func (w *Wall) jump() []string {
	return []string{"-s", w.Pool.String(), "!", "-i", "lo", "-j", w.Chain}
}

// chainRules are the rules of the chain, in order (without "-A <chain>").
func (w *Wall) chainRules() [][]string {
	return [][]string{
		{"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		{"-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"-j", "REJECT", "--reject-with", "icmp-port-unreachable"},
	}
}

// Rules are the wall's rules as `iptables -S` prints them: the jump in
// INPUT, then the chain.
func (w *Wall) Rules() []string {
	out := []string{"-A INPUT " + strings.Join(w.jump(), " "), "-N " + w.Chain}
	return append(out, w.chainLines()...)
}

// chainLines are the chain's rules as `iptables -S <chain>` prints them.
func (w *Wall) chainLines() []string {
	var out []string
	for _, r := range w.chainRules() {
		out = append(out, "-A "+w.Chain+" "+strings.Join(r, " "))
	}
	return out
}

// Install puts the wall up, idempotently: the chain is made, or refilled
// when it holds anything else, and the jump is inserted atop INPUT unless
// `iptables -C` finds it already; a jump to the chain with another source
// (put there by hand) is deleted once the pool's own is in.
func (w *Wall) Install(ctx context.Context) error {
	if err := w.fillChain(ctx); err != nil {
		return err
	}
	return w.jumpIn(ctx)
}

// fillChain makes the chain, or refills it when it holds anything else.
func (w *Wall) fillChain(ctx context.Context) error {
	exists, err := w.chainExists(ctx)
	if err != nil {
		return err
	}
	if !exists {
		if _, err := w.run(ctx, "-N", w.Chain); err != nil {
			return err
		}
	}
	lines, err := w.list(ctx, w.Chain)
	if err != nil {
		return err
	}
	if !slices.Equal(lines[1:], w.chainLines()) {
		// Filled before the jump exists on a first install; on a refill
		// the chain is empty for the moment between these calls.
		if _, err := w.run(ctx, "-F", w.Chain); err != nil {
			return err
		}
		for _, r := range w.chainRules() {
			if _, err := w.run(ctx, append([]string{"-A", w.Chain}, r...)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// jumpIn inserts the jump atop INPUT unless it is there, then deletes the
// chain's jumps for other pools.
func (w *Wall) jumpIn(ctx context.Context) error {
	present, err := w.check(ctx, "INPUT", w.jump())
	if err != nil {
		return err
	}
	if !present {
		if _, err := w.run(ctx, append([]string{"-I", "INPUT", "1"}, w.jump()...)...); err != nil {
			return err
		}
	}
	// Only now, so the pool never goes unwalled in between.
	jumps, err := w.jumps(ctx)
	if err != nil {
		return err
	}
	for _, j := range jumps {
		if source(j) == w.Pool.String() {
			continue
		}
		if _, err := w.run(ctx, append([]string{"-D", "INPUT"}, j...)...); err != nil {
			return err
		}
	}
	return nil
}

// source is the -s of a rule's arguments ("" without one); iptables prints
// it as the network's CIDR, as netip does.
func source(rule []string) string {
	for i := 0; i+1 < len(rule); i++ {
		if rule[i] == "-s" {
			return rule[i+1]
		}
	}
	return ""
}

// Remove takes the wall down: every jump to the chain, then the chain. A
// wall already down is no error. serve never calls it (the tenants of a
// stopped instance still run); tests and an operator taking appfactory off
// a host do.
func (w *Wall) Remove(ctx context.Context) error {
	exists, err := w.chainExists(ctx)
	if err != nil || !exists {
		return err
	}
	jumps, err := w.jumps(ctx)
	if err != nil {
		return err
	}
	for _, j := range jumps {
		if _, err := w.run(ctx, append([]string{"-D", "INPUT"}, j...)...); err != nil {
			return err
		}
	}
	if _, err := w.run(ctx, "-F", w.Chain); err != nil {
		return err
	}
	_, err = w.run(ctx, "-X", w.Chain)
	return err
}

// jumps are the rules of INPUT that jump to the chain, as their arguments
// after "-A INPUT".
func (w *Wall) jumps(ctx context.Context) ([][]string, error) {
	lines, err := w.list(ctx, "INPUT")
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 4 && f[0] == "-A" && f[1] == "INPUT" && f[len(f)-2] == "-j" && f[len(f)-1] == w.Chain {
			out = append(out, f[2:])
		}
	}
	return out, nil
}

// chainExists asks iptables whether the chain is there.
func (w *Wall) chainExists(ctx context.Context) (bool, error) {
	_, err := w.run(ctx, "-S", w.Chain)
	var ce *CommandError
	if errors.As(err, &ce) && ce.Code == 1 && !errors.Is(err, ErrNoPrivilege) {
		return false, nil
	}
	return err == nil, err
}

// check runs `iptables -C`: exit status 1 means the rule is missing.
func (w *Wall) check(ctx context.Context, chain string, rule []string) (bool, error) {
	_, err := w.run(ctx, append([]string{"-C", chain}, rule...)...)
	var ce *CommandError
	if errors.As(err, &ce) && ce.Code == 1 && !errors.Is(err, ErrNoPrivilege) {
		return false, nil
	}
	return err == nil, err
}

// list is `iptables -S <chain>`, one rule a line ("-N <chain>" or
// "-P INPUT ACCEPT" first).
func (w *Wall) list(ctx context.Context, chain string) ([]string, error) {
	out, err := w.run(ctx, "-S", chain)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(out, "\n"), "\n"), nil
}

// run runs iptables on the filter table, waiting for the lock Docker's own
// rule changes hold.
func (w *Wall) run(ctx context.Context, args ...string) (string, error) {
	bin, err := w.program()
	if err != nil {
		return "", err
	}
	args = append([]string{"-w", "5"}, args...)
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", &CommandError{Args: args, Code: ee.ExitCode(), Output: strings.TrimSpace(string(out))}
	}
	if err != nil {
		return "", fmt.Errorf("run %s: %w", bin, err)
	}
	return string(out), nil
}

// program finds iptables.
func (w *Wall) program() (string, error) {
	if w.Iptables != "" {
		p, err := exec.LookPath(w.Iptables)
		if err != nil {
			return "", fmt.Errorf("%w (%s: %v)", ErrNoIptables, w.Iptables, err)
		}
		return p, nil
	}
	for _, p := range []string{"iptables", "/usr/sbin/iptables", "/sbin/iptables"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (not in PATH, /usr/sbin or /sbin)", ErrNoIptables)
}

// CommandError is an iptables run that failed. It matches ErrNoPrivilege
// when iptables said it lacked the permission.
type CommandError struct {
	Args   []string
	Code   int
	Output string
}

// Error implements error.
func (e *CommandError) Error() string {
	return fmt.Sprintf("iptables %s: exit status %d: %s", strings.Join(e.Args, " "), e.Code, e.Output)
}

// Unwrap gives ErrNoPrivilege for a refusal for want of permission. The
// words are iptables' own (legacy and nf_tables): it has no exit status of
// its own for this.
func (e *CommandError) Unwrap() error {
	for _, s := range []string{"Permission denied", "you must be root", "Operation not permitted"} {
		if strings.Contains(e.Output, s) {
			return ErrNoPrivilege
		}
	}
	return nil
}
