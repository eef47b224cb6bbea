// Package enginetest is the live engine for tests: an Env whose Docker
// objects carry appfactory.test=1 and a label unique to the test, named
// uniquely and removed when the test ends, plus the test server image. Only
// tests import it.
package enginetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/runtime"
)

// server is the static test server, compiled on first use by Image: a
// package's tests that never ask for the image (its pure unit tests, or any
// run under -short) build nothing and touch no engine.
var server struct {
	src  string // the main package, relative to the test's package
	once sync.Once
	dir  string // holds bin; removed when the tests end
	bin  string
	err  error
}

// Main records dir (a main package, like "../testdata/testserver" from the
// test's package) as the source of the test server Image builds, runs the
// tests and exits: a package's TestMain calls it.
func Main(m *testing.M, dir string) {
	os.Exit(run(m, dir))
}

func run(m *testing.M, src string) int {
	server.src = src
	code := m.Run()
	if err := leaveSwarm(); err != nil {
		fmt.Fprintf(os.Stderr, "enginetest: leaving the tests' swarm: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if server.dir != "" {
		_ = os.RemoveAll(server.dir)
	}
	return code
}

// serverBinary compiles the test server once and returns its path.
func serverBinary(t testing.TB) string {
	t.Helper()
	server.once.Do(func() {
		if server.src == "" {
			server.err = errors.New("enginetest.Main was not called from TestMain")
			return
		}
		server.dir, server.err = os.MkdirTemp("", "orchestrator-test-")
		if server.err != nil {
			return
		}
		bin := filepath.Join(server.dir, "server")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./"+filepath.Clean(server.src))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			server.err = fmt.Errorf("build test server: %v\n%s", err, out)
			return
		}
		server.bin = bin
	})
	if server.err != nil {
		t.Fatal(server.err)
	}
	return server.bin
}

// Env is one test's view of the engine: every object it creates carries
// appfactory.test=1 and a label unique to the test, and is removed when the
// test ends, pass or fail.
type Env struct {
	// D is the engine, through the adapter under test.
	D *docker.Docker
	// ID is unique to the test: the value of TestLabel, part of every name.
	ID string
	// Labels are put on every object the test creates.
	Labels map[string]string
	// swarm is set once the test asked for the swarm (Swarm): Sweep
	// removes its services first.
	swarm bool
}

// TestLabel is the label whose value is unique to each test.
const TestLabel = "appfactory.test.id"

// New connects to the engine (skipping under -short) and removes what
// carries the test's label when the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the Docker engine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := docker.New(ctx)
	if err != nil {
		t.Fatalf("docker engine: %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	e := &Env{D: d, ID: hex.EncodeToString(b)}
	e.Labels = map[string]string{"appfactory.test": "1", TestLabel: e.ID}
	t.Cleanup(func() {
		e.Sweep(t)
		_ = d.Close()
	})
	return e
}

// Sweep removes whatever carries the test's label, in case a test created
// an object its own cleanup does not know.
func (e *Env) Sweep(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	only := map[string]string{TestLabel: e.ID}
	if e.swarm {
		if err := e.sweepServices(ctx, only); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	cs, err := e.D.ListContainers(ctx, only, true)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, c := range cs {
		if err := e.D.RemoveContainer(ctx, c.ID); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	ns, err := e.D.ListNetworks(ctx, only)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, n := range ns {
		if err := e.D.RemoveNetwork(ctx, n.ID); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	vs, err := e.D.ListVolumes(ctx, only)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, v := range vs {
		if err := e.D.RemoveVolume(ctx, v.Name); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
}

// Name returns a name unique to the test.
func (e *Env) Name(suffix string) string {
	return "af-test-" + e.ID + "-" + suffix
}

// With returns the test's labels plus extra ones.
func (e *Env) With(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range e.Labels {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Image builds the test server image (FROM scratch) under a tag unique to
// the test, and removes it afterwards.
func (e *Env) Image(t testing.TB) string {
	t.Helper()
	bin, err := os.ReadFile(serverBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	bc := factory.NewBuildContext()
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		// The first step is the test's own, so no two tests share cached
		// steps: removing one test's image never pulls a step from under
		// another test's build.
		{"Dockerfile", 0, []byte("FROM scratch\nLABEL " + TestLabel + "=" + e.ID + "\nCOPY --chown=65534:65534 data/ /data/\nCOPY server /server\nEXPOSE 8080\nENTRYPOINT [\"/server\"]\n")},
		{"data/.keep", 0, nil},
		{"server", 0o755, bin},
	} {
		if err := bc.Add(f.name, f.mode, f.data); err != nil {
			t.Fatal(err)
		}
	}
	r, err := bc.Reader()
	if err != nil {
		t.Fatal(err)
	}
	tag := "appfactory-test/rt:" + e.ID
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if err := e.D.RemoveImage(context.Background(), tag); err != nil {
			t.Errorf("remove image: %v", err)
		}
	})
	if _, err := e.D.BuildImage(ctx, r, []string{tag}, e.Labels, nil); err != nil {
		t.Fatalf("build test image: %v", err)
	}
	return tag
}

// Network creates a bridge network on a free random /28 of 10.213.0.0/16
// (other tests take subnets from the same pool at the same time).
func (e *Env) Network(t testing.TB, suffix string, internal bool) (name, id string, subnet netip.Prefix) {
	t.Helper()
	name = e.Name(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if err := e.D.RemoveNetwork(context.Background(), name); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	for range 50 {
		subnet = RandomSubnet()
		id, err := e.D.EnsureNetwork(ctx, docker.NetworkSpec{Name: name, Subnet: subnet.String(), Internal: internal, Labels: e.Labels})
		if errors.Is(err, docker.ErrSubnetOverlap) {
			continue
		}
		if err != nil {
			t.Fatalf("create network: %v", err)
		}
		return name, id, subnet
	}
	t.Fatal("no free /28 in 10.213.0.0/16 after 50 tries")
	return "", "", netip.Prefix{}
}

// RandomSubnet is a random /28 of 10.213.0.0/16.
func RandomSubnet() netip.Prefix {
	n := mrand.IntN(4096) << 4 // a /28 inside 10.213.0.0/16
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(n >> 8), byte(n)}), 28)
}

// Volume creates a named volume, removed afterwards.
func (e *Env) Volume(t testing.TB, suffix string) string {
	t.Helper()
	name := e.Name(suffix)
	t.Cleanup(func() {
		if err := e.D.RemoveVolume(context.Background(), name); err != nil {
			t.Errorf("remove volume: %v", err)
		}
	})
	if err := e.D.EnsureVolume(context.Background(), docker.VolumeSpec{Name: name, Labels: e.Labels}); err != nil {
		t.Fatalf("create volume: %v", err)
	}
	return name
}

// Container creates a container from spec with the test's labels added,
// removed afterwards.
func (e *Env) Container(t testing.TB, spec docker.ContainerSpec) string {
	t.Helper()
	spec.Labels = e.With(spec.Labels)
	t.Cleanup(func() {
		if err := e.D.RemoveContainer(context.Background(), spec.Name); err != nil {
			t.Errorf("remove container: %v", err)
		}
	})
	id, _, err := e.D.CreateContainer(context.Background(), spec)
	if err != nil {
		t.Fatalf("create container: %v", err)
	}
	return id
}

// ServerSpec is a container of the test server on a network, with a volume at /data.
func ServerSpec(name, image, network, volume string) docker.ContainerSpec {
	s := docker.ContainerSpec{
		Name:        name,
		Image:       image,
		Network:     network,
		Aliases:     []string{"web"},
		MemoryBytes: 64 << 20,
		CPUs:        0.5,
		PidsLimit:   64,
		User:        "65534:65534",
		StopTimeout: 3 * time.Second,
	}
	if volume != "" {
		s.Volumes = []runtime.VolumeMount{{Name: volume, Target: "/data"}}
	}
	return s
}

// StartReady starts a container and waits until its server answers on the
// network's address, which it returns.
func (e *Env) StartReady(t testing.TB, id, network string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.D.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	c, err := e.D.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ip := c.IPs[network]
	if ip == "" {
		t.Fatalf("container %s has no address on %s: %v", c.Name, network, c.IPs)
	}
	base := "http://" + ip + ":8080"
	if err := ready.WaitReady(ctx, base+"/healthz"); err != nil {
		t.Fatal(err)
	}
	return base
}
