package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/runtime"
)

// testServerBinary is the static test server compiled once by TestMain.
var testServerBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "orchestrator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testServerBinary = filepath.Join(dir, "server")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", testServerBinary, "./testdata/testserver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test server: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// testEnv is one test's view of the engine: every object it creates carries
// appfactory.test=1 and a label unique to the test, and is removed when the
// test ends, pass or fail.
type testEnv struct {
	d      *docker.Docker
	id     string
	labels map[string]string
}

const testLabel = "appfactory.test.id"

func newTestEnv(t testing.TB) *testEnv {
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
	e := &testEnv{d: d, id: hex.EncodeToString(b)}
	e.labels = map[string]string{"appfactory.test": "1", testLabel: e.id}
	t.Cleanup(func() {
		e.sweep(t)
		_ = d.Close()
	})
	return e
}

// sweep removes whatever carries the test's label, in case a test created
// an object its own cleanup does not know.
func (e *testEnv) sweep(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	only := map[string]string{testLabel: e.id}
	cs, err := e.d.ListContainers(ctx, only, true)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, c := range cs {
		if err := e.d.RemoveContainer(ctx, c.ID); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	ns, _ := e.d.ListNetworks(ctx, only)
	for _, n := range ns {
		if err := e.d.RemoveNetwork(ctx, n.ID); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	vs, _ := e.d.ListVolumes(ctx, only)
	for _, v := range vs {
		if err := e.d.RemoveVolume(ctx, v.Name); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
}

// name returns a name unique to the test.
func (e *testEnv) name(suffix string) string {
	return "af-test-" + e.id + "-" + suffix
}

// with returns the test's labels plus extra ones.
func (e *testEnv) with(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range e.labels {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// image builds the test server image (FROM scratch) under a tag unique to
// the test, and removes it afterwards.
func (e *testEnv) image(t testing.TB) string {
	t.Helper()
	bin, err := os.ReadFile(testServerBinary)
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
		{"Dockerfile", 0, []byte("FROM scratch\nLABEL " + testLabel + "=" + e.id + "\nCOPY --chown=65534:65534 data/ /data/\nCOPY server /server\nEXPOSE 8080\nENTRYPOINT [\"/server\"]\n")},
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
	tag := "appfactory-test/rt:" + e.id
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if err := e.d.RemoveImage(context.Background(), tag); err != nil {
			t.Errorf("remove image: %v", err)
		}
	})
	if _, err := e.d.BuildImage(ctx, r, []string{tag}, e.labels, nil); err != nil {
		t.Fatalf("build test image: %v", err)
	}
	return tag
}

// network creates a bridge network on a free random /28 of 10.213.0.0/16
// (other tests take subnets from the same pool at the same time).
func (e *testEnv) network(t testing.TB, suffix string, internal bool) (name, id string, subnet netip.Prefix) {
	t.Helper()
	name = e.name(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if err := e.d.RemoveNetwork(context.Background(), name); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	for range 50 {
		subnet = randomSubnet()
		id, err := e.d.EnsureNetwork(ctx, runtime.NetworkSpec{Name: name, Subnet: subnet.String(), Internal: internal, Labels: e.labels})
		if errors.Is(err, runtime.ErrSubnetOverlap) {
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

func randomSubnet() netip.Prefix {
	n := mrand.IntN(4096) << 4 // a /28 inside 10.213.0.0/16
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(n >> 8), byte(n)}), 28)
}

// volume creates a named volume, removed afterwards.
func (e *testEnv) volume(t testing.TB, suffix string) string {
	t.Helper()
	name := e.name(suffix)
	t.Cleanup(func() {
		if err := e.d.RemoveVolume(context.Background(), name); err != nil {
			t.Errorf("remove volume: %v", err)
		}
	})
	if err := e.d.EnsureVolume(context.Background(), runtime.VolumeSpec{Name: name, Labels: e.labels}); err != nil {
		t.Fatalf("create volume: %v", err)
	}
	return name
}

// container creates a container from spec with the test's labels added,
// removed afterwards.
func (e *testEnv) container(t testing.TB, spec runtime.ContainerSpec) string {
	t.Helper()
	spec.Labels = e.with(spec.Labels)
	t.Cleanup(func() {
		if err := e.d.RemoveContainer(context.Background(), spec.Name); err != nil {
			t.Errorf("remove container: %v", err)
		}
	})
	id, _, err := e.d.CreateContainer(context.Background(), spec)
	if err != nil {
		t.Fatalf("create container: %v", err)
	}
	return id
}

// serverSpec is a container of the test server on a network, with a volume at /data.
func serverSpec(name, image, network, volume string) runtime.ContainerSpec {
	s := runtime.ContainerSpec{
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

// startReady starts a container and waits until its server answers on the
// network's address, which it returns.
func (e *testEnv) startReady(t testing.TB, id, network string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.d.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	c, err := e.d.Inspect(ctx, id)
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

// engineContainer is the part of the engine's own inspect document that
// the hardening checks read (runtime.Container leaves it out on purpose).
type engineContainer struct {
	HostConfig struct {
		Memory, MemorySwap, NanoCPUs int64
		PidsLimit                    *int64
		CapDrop, SecurityOpt         []string
		ReadonlyRootfs, Privileged   bool
		PublishAllPorts              bool
		Tmpfs                        map[string]string
		PortBindings                 map[string]any
		NetworkMode, PidMode         string
		IpcMode, UTSMode             string
		LogConfig                    struct {
			Type   string
			Config map[string]string
		}
		RestartPolicy struct{ Name string }
	}
	Mounts []struct{ Type, Source string }
	Config struct {
		Labels map[string]string
	}
	NetworkSettings struct {
		Networks map[string]struct{ Aliases []string }
	}
}

// inspectEngine reads a container's inspect document from the engine.
func inspectEngine(ctx context.Context, d *docker.Docker, id string) (engineContainer, error) {
	var c engineContainer
	raw, err := d.InspectRaw(ctx, id)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(raw, &c)
}
