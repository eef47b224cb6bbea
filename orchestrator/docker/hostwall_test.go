package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"appfactory/orchestrator/hostwall"
)

// TestHostWallEndToEnd: a container on an internal tenant network reaches
// a host listener on 0.0.0.0 through its gateway until the wall is up, is
// refused at once while it is, and reaches it again once it is down; the
// host dials the container (the router's direction) all along. IPv6, which
// the wall does not cover, is off in a tenant container: it has no address
// to reach the bridge's link-local one with.
func TestHostWallEndToEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host wall needs root")
	}
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.probeImage(t)
	netName, netID, subnet := e.wallNetwork(t)
	spec := probeSpec(e.name("probe-1"), image, netName)
	base := e.startReady(t, e.container(t, spec), netName)

	// The host's address on the tenant's bridge: the containers' gateway.
	bridge := "br-" + netID[:12]
	gw := bridgeAddr(t, bridge, func(a netip.Addr) bool { return a.Is4() && subnet.Contains(a) })
	if gw == "" {
		t.Fatalf("bridge %s has no address in %s", bridge, subnet)
	}
	token := "host-listener-" + e.id
	port4 := hostListener(t, "tcp4", "0.0.0.0:0", token)
	hostAddr := net.JoinHostPort(gw, port4)

	if code, body := probeDial(t, base, hostAddr); code != http.StatusOK || body != token {
		t.Fatalf("without the wall the container should reach %s: %d %q", hostAddr, code, body)
	}

	w, err := hostwall.New(subnet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Remove(context.Background()); err != nil {
			t.Errorf("remove wall: %v", err)
		}
	})
	if err := w.Install(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, body := probeDial(t, base, hostAddr)
	if code != http.StatusBadGateway || !strings.Contains(body, "connection refused") {
		t.Errorf("with the wall the container reached %s: %d %q, want a refusal", hostAddr, code, body)
	}
	// "connection refused" is the reset the wall sends: a dropped SYN
	// would end in a dial timeout instead. How long it took is a figure.
	t.Logf("refused in %v", time.Since(start).Round(time.Millisecond))
	if got := httpGet(t, base+"/healthz"); got != "ok\n" {
		t.Errorf("host to container with the wall up: %q", got)
	}

	if err := w.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := probeDial(t, base, hostAddr); code != http.StatusOK || body != token {
		t.Errorf("with the wall down again: %d %q", code, body)
	}

	t.Run("ipv6", func(t *testing.T) {
		// Given when the bridge comes up, after a moment of duplicate detection.
		var ll string
		for deadline := time.Now().Add(3 * time.Second); ll == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			ll = bridgeAddr(t, bridge, func(a netip.Addr) bool { return a.Is6() && a.IsLinkLocalUnicast() })
		}
		if ll == "" {
			t.Skipf("bridge %s has no IPv6 link-local address: IPv6 is off on this host", bridge)
		}
		port6 := hostListener(t, "tcp6", "[::]:0", token)
		llAddr := net.JoinHostPort(ll+"%eth0", port6)
		if addrs := httpGet(t, base+"/addrs"); strings.Contains(addrs, ":") {
			t.Errorf("a tenant container has IPv6 addresses:\n%s", addrs)
		}
		if code, body := probeDial(t, base, llAddr); code == http.StatusOK {
			t.Errorf("a tenant container reached the host at %s: %q", llAddr, body)
		}
		// What the sysctls close: the same container with IPv6 left on.
		open := e.containerWithIPv6(t, probeSpec(e.name("probe-v6"), image, netName))
		openBase := e.startReady(t, open, netName)
		var code int
		var body, addrs string
		// Its link-local address stays tentative for a moment (duplicate detection).
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if addrs = httpGet(t, openBase+"/addrs"); !strings.Contains(addrs, "eth0 fe80:") {
				continue
			}
			if code, body = probeDial(t, openBase, llAddr); code == http.StatusOK {
				break
			}
		}
		if code == http.StatusOK && body == token {
			t.Logf("with IPv6 on, a container reaches the host at %s: the sysctls are what close it", llAddr)
		} else {
			t.Logf("with IPv6 on, %s is not reached either (%d %q; addresses %q): something else on this host closes it", llAddr, code, body, addrs)
		}
	})
}

// probeSpec is a hardened container of the dial probe on a network.
func probeSpec(name, image, network string) ContainerSpec {
	return ContainerSpec{Name: name, Image: image, Network: network, MemoryBytes: 32 << 20, CPUs: 0.5, PidsLimit: 32,
		User: "65534:65534", StopTimeout: time.Second}
}

// containerWithIPv6 creates the container CreateContainer would, but with
// IPv6 on in its network namespace; removed afterwards.
func (e *testEnv) containerWithIPv6(t *testing.T, spec ContainerSpec) string {
	t.Helper()
	spec.Labels = e.with(spec.Labels)
	cfg, host, netcfg, err := containerConfig(spec)
	if err != nil {
		t.Fatal(err)
	}
	host.Sysctls = map[string]string{"net.ipv6.conf.all.disable_ipv6": "0", "net.ipv6.conf.default.disable_ipv6": "0"}
	t.Cleanup(func() {
		if err := e.d.RemoveContainer(context.Background(), spec.Name); err != nil {
			t.Errorf("remove container: %v", err)
		}
	})
	resp, err := e.d.cli.ContainerCreate(context.Background(), cfg, host, netcfg, nil, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

// probeDial asks the probe in a container to dial addr; 200 and what the
// peer sent, or 502 and the dial's error.
func probeDial(t *testing.T, base, addr string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/dial?addr=" + url.QueryEscape(addr))
	if err != nil {
		t.Fatalf("host to container: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// hostListener accepts on the host for the test's length, writes token to
// every connection and closes it; it returns the port.
func hostListener(t *testing.T, network, addr, token string) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, token)
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// bridgeAddr is the first address of a host interface that is
// wanted; "" when there is none.
func bridgeAddr(t *testing.T, name string, want func(netip.Addr) bool) string {
	t.Helper()
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatalf("bridge %s: %v", name, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		t.Fatalf("bridge %s: %v", name, err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && want(p.Addr()) {
			return p.Addr().String()
		}
	}
	return ""
}

// wallNetwork creates an internal network on a random /28 of 10.219.0.0/16,
// a range no other test's network or wall uses (those of tenant networks
// and serve's walls, 10.213.0.0/16, may be walled off by a serve another
// test runs at the same time).
func (e *testEnv) wallNetwork(t *testing.T) (name, id string, subnet netip.Prefix) {
	t.Helper()
	name = e.name("wall")
	t.Cleanup(func() {
		if err := e.d.RemoveNetwork(context.Background(), name); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	for range 50 {
		n := mrand.IntN(4096) << 4
		subnet = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 219, byte(n >> 8), byte(n)}), 28)
		id, err := e.d.EnsureNetwork(context.Background(), NetworkSpec{Name: name, Subnet: subnet.String(), Internal: true, Labels: e.labels})
		if errors.Is(err, ErrSubnetOverlap) {
			continue
		}
		if err != nil {
			t.Fatalf("create network: %v", err)
		}
		return name, id, subnet
	}
	t.Fatal("no free /28 in 10.219.0.0/16 after 50 tries")
	return "", "", netip.Prefix{}
}

// probeImage builds the dial probe (testdata/dialprobe) into an image FROM
// scratch under a tag unique to the test, removed afterwards.
func (e *testEnv) probeImage(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "probe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/dialprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := fmt.Sprintf("FROM scratch\nLABEL %s=%s\nCOPY probe /probe\nEXPOSE 8080\nENTRYPOINT [\"/probe\"]\n", testLabel, e.id)
	r, err := tarContext(map[string][]byte{"Dockerfile": []byte(dockerfile), "probe": data}, map[string]int64{"probe": 0o755})
	if err != nil {
		t.Fatal(err)
	}
	tag := "appfactory-test/dialprobe:" + e.id
	t.Cleanup(func() {
		if err := e.d.RemoveImage(context.Background(), tag); err != nil {
			t.Errorf("remove image: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := e.d.BuildImage(ctx, r, []string{tag}, e.labels, nil); err != nil {
		t.Fatalf("build the probe image: %v", err)
	}
	return tag
}
