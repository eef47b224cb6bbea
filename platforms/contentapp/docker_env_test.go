package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// dockerEnv holds one test's Docker objects, all labelled
// appfactory.test=1 and appfactory.test.contentapp=<id>, all removed in
// t.Cleanup.
type dockerEnv struct {
	cli    *client.Client
	id     string
	labels map[string]string
	net    string
	// started is when the last ContainerStart call of run returned.
	started time.Time
}

func newDockerEnv(t *testing.T) *dockerEnv {
	t.Helper()
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			t.Skip("no Docker socket")
		}
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	b := make([]byte, 4)
	rand.Read(b)
	id := hex.EncodeToString(b)
	return &dockerEnv{cli: cli, id: id, labels: map[string]string{"appfactory.test": "1", "appfactory.test.contentapp": id}}
}

func (e *dockerEnv) name(suffix string) string {
	return "appfactory-test-contentapp-" + e.id + "-" + suffix
}

// removeImage is a cleanup that removes a test image, tolerating its absence.
func (e *dockerEnv) removeImage(t *testing.T, ref string) {
	t.Cleanup(func() {
		_, err := e.cli.ImageRemove(context.Background(), ref, image.RemoveOptions{PruneChildren: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove image %s: %v", ref, err)
		}
	})
}

// buildPlatform runs build-images.sh under a test repository name and
// returns that repository.
func (e *dockerEnv) buildPlatform(t *testing.T) string {
	t.Helper()
	repo := "appfactory-test/contentapp-" + e.id
	for _, v := range []string{"1.0", "2.0"} {
		e.removeImage(t, repo+":"+v)
	}
	cmd := exec.Command("./build-images.sh")
	cmd.Env = append(os.Environ(), "CONTENTAPP_IMAGE="+repo, "CONTENTAPP_OUT="+t.TempDir(),
		"CONTENTAPP_LABELS=appfactory.test=1 appfactory.test.contentapp="+e.id)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build-images.sh: %v\n%s", err, out)
	}
	t.Logf("build-images.sh took %v", time.Since(start).Round(time.Millisecond))
	for _, v := range []string{"1.0", "2.0"} {
		img, err := e.cli.ImageInspect(context.Background(), repo+":"+v)
		if err != nil {
			t.Fatal(err)
		}
		l := img.Config.Labels
		if l["org.opencontainers.image.version"] != v || l["appfactory.platform"] != "contentapp" || img.Config.User != "65534:65534" {
			t.Fatalf("image %s: labels %v, user %q", v, l, img.Config.User)
		}
		t.Logf("image %s: %.1f MB", v, float64(img.Size)/1e6)
	}
	return repo
}

// buildDerived does what the factory does: FROM the platform image, with
// the customisation files under /app.
func (e *dockerEnv) buildDerived(t *testing.T, base, tag string, files map[string]string) {
	t.Helper()
	e.removeImage(t, tag)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files["Dockerfile"] = "FROM " + base + "\nCOPY app /app\n"
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)})
		tw.Write([]byte(body))
	}
	tw.Close()
	resp, err := e.cli.ImageBuild(context.Background(), &buf, build.ImageBuildOptions{
		Tags: []string{tag}, Labels: e.labels, Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if msg.Error != "" {
			t.Fatalf("build %s: %s", tag, msg.Error)
		}
	}
}

// network creates a bridge network on a random /28, retrying on overlap
// with networks of other tests.
func (e *dockerEnv) network(t *testing.T) {
	t.Helper()
	name := e.name("net")
	for range 20 {
		n := mrand.IntN(4096) << 4
		subnet := fmt.Sprintf("10.214.%d.%d/28", n>>8, n&0xff)
		_, err := e.cli.NetworkCreate(context.Background(), name, network.CreateOptions{
			Driver: "bridge", Labels: e.labels, IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet}}},
		})
		if err != nil && strings.Contains(err.Error(), "overlap") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		e.net = name
		t.Cleanup(func() {
			if err := e.cli.NetworkRemove(context.Background(), name); err != nil && !cerrdefs.IsNotFound(err) {
				t.Errorf("remove network: %v", err)
			}
		})
		return
	}
	t.Fatal("no free test subnet")
}

func (e *dockerEnv) volume(t *testing.T) string {
	t.Helper()
	v, err := e.cli.VolumeCreate(context.Background(), volume.CreateOptions{Name: e.name("data"), Labels: e.labels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.cli.VolumeRemove(context.Background(), v.Name, true); err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove volume: %v", err)
		}
	})
	return v.Name
}

// run creates and starts a hardened container of role on the test network
// (reachable there by the role's name) and returns its id.
func (e *dockerEnv) run(t *testing.T, img, role, suffix, vol string) string {
	t.Helper()
	ctx := context.Background()
	pids := int64(64)
	host := &container.HostConfig{
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": "rw,noexec,nosuid,size=16m"},
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		Resources:      container.Resources{Memory: 128 << 20, PidsLimit: &pids},
	}
	if vol != "" {
		host.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/data"}}
	}
	netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{e.net: {Aliases: []string{role}}}}
	c, err := e.cli.ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{role}, Labels: e.labels}, host, netCfg, nil, e.name(suffix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := e.cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove container: %v", err)
		}
	})
	if err := e.cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	e.started = time.Now()
	return c.ID
}

// addr returns the container's address on the test network.
func (e *dockerEnv) addr(t *testing.T, id string, port int) string {
	t.Helper()
	c, err := e.cli.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ep := c.NetworkSettings.Networks[e.net]
	if ep == nil || ep.IPAddress == "" {
		t.Fatalf("container %s has no address on %s", id, e.net)
	}
	return net.JoinHostPort(ep.IPAddress, fmt.Sprint(port))
}

// waitOK polls url until it answers 200, with short dials (a SYN sent
// before the container's network is up would wait a second for a retry).
func waitOK(t *testing.T, url string) {
	t.Helper()
	hc := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{
		DialContext:       (&net.Dialer{Timeout: 30 * time.Millisecond}).DialContext,
		DisableKeepAlives: true,
	}}
	start := time.Now()
	var last string
	for time.Since(start) < 20*time.Second {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s not OK within 20 s: %s", url, last)
}

// exec runs the command in the container and returns its exit code.
func (e *dockerEnv) exec(t *testing.T, id string, cmd ...string) int {
	t.Helper()
	ctx := context.Background()
	x, err := e.cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cli.ContainerExecStart(ctx, x.ID, container.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		in, err := e.cli.ContainerExecInspect(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !in.Running {
			return in.ExitCode
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("exec %v did not finish", cmd)
	return -1
}

// stop stops a container and checks that SIGTERM made it exit cleanly: a
// PID 1 without a handler would ignore SIGTERM until the engine's kill at
// the stop timeout, and exit 137. How long it took is logged, not bounded.
func (e *dockerEnv) stop(t *testing.T, id string) {
	t.Helper()
	timeout := 10
	start := time.Now()
	if err := e.cli.ContainerStop(context.Background(), id, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	c, err := e.cli.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.ExitCode != 0 || c.State.OOMKilled {
		t.Fatalf("container %s exited %d after %v, want 0 on SIGTERM", c.Name, c.State.ExitCode, took)
	}
	t.Logf("container %s stopped in %v", c.Name, took.Round(time.Millisecond))
}
