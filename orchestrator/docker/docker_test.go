package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

// testServer is the static test server, compiled on first use by image:
// the adapter's pure tests (parsing, specs) and any run under -short build
// nothing.
var testServer struct {
	once sync.Once
	dir  string // holds bin; removed when the tests end
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testServer.dir != "" {
		_ = os.RemoveAll(testServer.dir)
	}
	os.Exit(code)
}

// testServerBinary compiles the test server once and returns its path.
func testServerBinary(t testing.TB) string {
	t.Helper()
	testServer.once.Do(func() {
		testServer.dir, testServer.err = os.MkdirTemp("", "orchestrator-test-")
		if testServer.err != nil {
			return
		}
		bin := filepath.Join(testServer.dir, "server")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "../testdata/testserver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			testServer.err = fmt.Errorf("build test server: %v\n%s", err, out)
			return
		}
		testServer.bin = bin
	})
	if testServer.err != nil {
		t.Fatal(testServer.err)
	}
	return testServer.bin
}

// The helpers below mirror orchestrator's engine_test.go: the adapter's
// tests cannot use the orchestrator's build context or prober without
// depending on their own consumer.

// testEnv is one test's view of the engine: every object it creates carries
// appfactory.test=1 and a label unique to the test, and is removed when the
// test ends, pass or fail.
type testEnv struct {
	d      *Docker
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
	d, err := New(ctx)
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
func (e *testEnv) sweep(t testing.TB) { e.sweepOnly(t, map[string]string{testLabel: e.id}) }

// sweepOnly removes the containers, networks and volumes carrying all of
// the labels only.
func (e *testEnv) sweepOnly(t testing.TB, only map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := e.d.ListContainers(ctx, only, true)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, c := range cs {
		if err := e.d.RemoveContainer(ctx, c.ID); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	ns, err := e.d.ListNetworks(ctx, only)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, n := range ns {
		if err := e.d.RemoveNetwork(ctx, n.ID); err != nil {
			t.Errorf("sweep: %v", err)
		}
	}
	vs, err := e.d.ListVolumes(ctx, only)
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
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
	bin, err := os.ReadFile(testServerBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	// The first step is the test's own, so no two tests share cached
	// steps: removing one test's image never pulls a step from under
	// another test's build.
	r, err := tarContext(map[string][]byte{
		"Dockerfile": []byte("FROM scratch\nLABEL " + testLabel + "=" + e.id + "\nCOPY --chown=65534:65534 data/ /data/\nCOPY server /server\nEXPOSE 8080\nENTRYPOINT [\"/server\"]\n"),
		"data/.keep": nil,
		"server":     bin,
	}, map[string]int64{"server": 0o755})
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
		id, err := e.d.EnsureNetwork(ctx, NetworkSpec{Name: name, Subnet: subnet.String(), Internal: internal, Labels: e.labels})
		if errors.Is(err, ErrSubnetOverlap) {
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
	if err := e.d.EnsureVolume(context.Background(), VolumeSpec{Name: name, Labels: e.labels}); err != nil {
		t.Fatalf("create volume: %v", err)
	}
	return name
}

// container creates a container from spec with the test's labels added,
// removed afterwards.
func (e *testEnv) container(t testing.TB, spec ContainerSpec) string {
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
func serverSpec(name, image, network, volume string) ContainerSpec {
	s := ContainerSpec{
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
	if err := waitReady(ctx, base+"/healthz"); err != nil {
		t.Fatal(err)
	}
	return base
}

// tarContext writes a build context of path -> content, with modes by path
// (0644 when missing): sorted, parent directories first, fixed times, so
// equal content gives equal bytes (as the factory's BuildContext does).
func tarContext(files map[string][]byte, modes map[string]int64) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	dirs := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			dirs[dir+"/"] = true
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		mode := modes[name]
		if mode == 0 {
			mode = 0o644
		}
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// waitReady polls url until it answers 200 or ctx ends.
func waitReady(ctx context.Context, url string) error {
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
