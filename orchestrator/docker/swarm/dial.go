package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"appfactory/orchestrator/docker"
)

// DefaultNetnsDir is where the engine keeps its sandboxes' network
// namespaces (the netns directory of dockerd's --exec-root).
const DefaultNetnsDir = "/var/run/docker/netns"

// refreshEvery bounds how often an address of no known overlay sends the
// dialer back to the engine's network list.
const refreshEvery = time.Second

// overlays maps the subnets of this instance's overlay networks to the
// networks' ids.
type overlays struct {
	mu      sync.Mutex
	subnets map[netip.Prefix]string
	read    time.Time
}

// DialContext implements runtime.Dialer. An address on one of this
// instance's overlay networks is dialled from the network's own namespace
// on this node, the one the engine gives an overlay wherever a container
// of it runs (its bridge holds the network's gateway address): the socket
// is made there, on a thread that enters the namespace for that one
// system call, and serves from any thread afterwards. The host itself
// keeps no route to a tenant's network, and the network none out. Any
// other address is dialled as net.Dialer does.
//
// Entering a namespace needs CAP_SYS_ADMIN: appfactory runs as root, as
// its host wall already asks.
func (r *Runtime) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return d.DialContext(ctx, network, addr)
	}
	id, ok, err := r.overlayOf(ctx, ap.Addr())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if !ok {
		return d.DialContext(ctx, network, addr)
	}
	return dialIn(ctx, filepath.Join(r.opts.NetnsDir, sandboxName(id)), d, network, addr)
}

// sandboxName is the engine's name for an overlay network's namespace on
// a node: "1-" and the first ten characters of the network's id.
func sandboxName(networkID string) string {
	if len(networkID) > 10 {
		networkID = networkID[:10]
	}
	return "1-" + networkID
}

// overlayOf is the id of this instance's overlay network holding a, read
// again from the engine when a is on none known (at most once a second).
func (r *Runtime) overlayOf(ctx context.Context, a netip.Addr) (string, bool, error) {
	o := &r.overlays
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.lookup(a); ok {
		return id, true, nil
	}
	if time.Since(o.read) < refreshEvery {
		return "", false, nil
	}
	nets, err := r.ListNetworks(ctx, map[string]string{docker.LabelInstance: r.instance()})
	if err != nil {
		return "", false, err
	}
	o.read = time.Now()
	o.subnets = map[netip.Prefix]string{}
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n.Subnet); err == nil {
			o.subnets[p] = n.ID
		}
	}
	id, ok := o.lookup(a)
	return id, ok, nil
}

func (o *overlays) lookup(a netip.Addr) (string, bool) {
	for p, id := range o.subnets {
		if p.Contains(a) {
			return id, true
		}
	}
	return "", false
}

// dialIn dials addr with a socket made in the network namespace at path.
func dialIn(ctx context.Context, path string, d *net.Dialer, network, addr string) (net.Conn, error) {
	ns, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dial %s: the overlay network is not on this node (%w)", addr, err)
	}
	defer ns.Close()
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := inNamespace(ns, func() (net.Conn, error) { return d.DialContext(ctx, network, addr) })
		done <- result{c, err}
	}()
	res := <-done
	return res.c, res.err
}

// inNamespace runs fn on this goroutine's own thread inside the network
// namespace ns, and brings the thread back. A thread that cannot go back
// stays locked, and the runtime ends it with the goroutine.
func inNamespace(ns *os.File, fn func() (net.Conn, error)) (net.Conn, error) {
	goruntime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		goruntime.UnlockOSThread()
		return nil, fmt.Errorf("this thread's network namespace: %w", err)
	}
	defer self.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		goruntime.UnlockOSThread()
		return nil, fmt.Errorf("enter the overlay network's namespace: %w", err)
	}
	c, err := fn()
	if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
		goruntime.UnlockOSThread()
	}
	return c, err
}

// checkDialer reports, before any tenant is served, what would make every
// dial into an overlay fail: a namespace directory that is not one, or no
// privilege to enter a namespace (setns into this thread's own needs the
// same).
func checkDialer(dir string) error {
	// The engine makes the directory with its first sandbox: a missing one
	// is not yet an error.
	if fi, err := os.Stat(dir); err != nil && !errors.Is(err, os.ErrNotExist) || err == nil && !fi.IsDir() {
		return fmt.Errorf("the engine's network namespaces are not at %s (give the netns directory of dockerd's --exec-root)", dir)
	}
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return fmt.Errorf("this thread's network namespace: %w", err)
	}
	defer self.Close()
	_, err = inNamespace(self, func() (net.Conn, error) { return nil, nil })
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("the router enters the overlay networks' namespaces, which needs root (CAP_SYS_ADMIN): %w", err)
	}
	return err
}
