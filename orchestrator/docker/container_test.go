package docker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

func TestCreateContainerHardening(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	vol := e.volume(t, "data")
	spec := serverSpec(e.name("web-1"), image, netName, vol)
	spec.Env = []string{"GREETING=hello"}
	spec.Labels = map[string]string{"appfactory.service": "web"}
	spec.Healthcheck = &runtime.Healthcheck{Test: []string{"NONE"}}
	id := e.container(t, spec)

	raw, err := e.d.cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	h := raw.HostConfig
	checks := []struct {
		field     string
		got, want any
	}{
		{"Memory", h.Memory, int64(64 << 20)},
		{"MemorySwap", h.MemorySwap, int64(64 << 20)},
		{"NanoCPUs", h.NanoCPUs, int64(5e8)},
		{"PidsLimit", *h.PidsLimit, int64(64)},
		{"CapDrop", []string(h.CapDrop), []string{"ALL"}},
		{"CapAdd", len(h.CapAdd), 0},
		{"SecurityOpt", h.SecurityOpt, []string{"no-new-privileges"}},
		{"Privileged", h.Privileged, false},
		{"ReadonlyRootfs", h.ReadonlyRootfs, true},
		{"Tmpfs", h.Tmpfs, map[string]string{"/tmp": TmpfsOptions}},
		{"Sysctls", h.Sysctls, map[string]string{"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"}},
		{"LogConfig.Type", h.LogConfig.Type, "json-file"},
		{"LogConfig.Config", h.LogConfig.Config, map[string]string{"max-size": "1m", "max-file": "3"}},
		{"RestartPolicy", string(h.RestartPolicy.Name), "unless-stopped"},
		{"PortBindings", len(h.PortBindings), 0},
		{"PublishAllPorts", h.PublishAllPorts, false},
		{"Binds", len(h.Binds), 0},
		{"NetworkMode", string(h.NetworkMode), netName},
		{"PidMode", string(h.PidMode), ""},
		{"IpcMode", string(h.IpcMode), "private"},
		{"UTSMode", string(h.UTSMode), ""},
		{"UsernsMode", string(h.UsernsMode), ""},
		{"Mounts", len(h.Mounts), 1},
		{"Mount.Type", string(h.Mounts[0].Type), "volume"},
		{"Mount.Source", h.Mounts[0].Source, vol},
		{"Mount.Target", h.Mounts[0].Target, "/data"},
		{"User", raw.Config.User, "65534:65534"},
		{"StopTimeout", *raw.Config.StopTimeout, 3},
		{"Env has GREETING", slices.Contains(raw.Config.Env, "GREETING=hello"), true},
		{"Healthcheck", raw.Config.Healthcheck.Test, []string{"NONE"}},
		{"Aliases has web", slices.Contains(raw.NetworkSettings.Networks[netName].Aliases, "web"), true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}
	for _, m := range raw.Mounts {
		if m.Type != "volume" {
			t.Errorf("mount %+v is not a volume", m)
		}
	}

	c, err := e.d.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.Name != spec.Name || c.Image != image || c.State != "created" || c.Running || c.Labels["appfactory.service"] != "web" || c.Labels[testLabel] != e.id {
		t.Errorf("Inspect = %+v", c)
	}

	// The hardening holds at run time: the process runs as the spec's user
	// and cannot write its root filesystem, only the volume.
	base := e.startReady(t, id, netName)
	if got := httpGet(t, base+"/whoami"); got != "65534:65534\n" {
		t.Errorf("whoami = %q", got)
	}
	for _, tc := range []struct {
		path     string
		writable bool
	}{
		{"/probe", false},
		{"/data/probe", true},
		{"/tmp/probe", true},
	} {
		status, body := httpPost(t, base+"/write?path="+tc.path, "")
		if got := status == http.StatusNoContent; got != tc.writable {
			t.Errorf("write %s: %d %s, want writable %v", tc.path, status, body, tc.writable)
		}
	}
}

func TestCreateContainerDefaultsAndAdopt(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	spec := ContainerSpec{Name: e.name("job-1"), Image: image}
	id := e.container(t, spec)

	raw, err := e.d.cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	h := raw.HostConfig
	if h.Memory != DefaultMemoryBytes || h.MemorySwap != DefaultMemoryBytes || h.NanoCPUs != int64(DefaultCPUs*1e9) || *h.PidsLimit != DefaultPidsLimit {
		t.Errorf("defaults: memory %d swap %d nanocpus %d pids %d", h.Memory, h.MemorySwap, h.NanoCPUs, *h.PidsLimit)
	}
	if h.NetworkMode != "none" || raw.Config.User != "" {
		t.Errorf("network mode %q user %q, want none and the image's", h.NetworkMode, raw.Config.User)
	}

	spec.Labels = e.labels
	again, adopted, err := e.d.CreateContainer(ctx, spec)
	if err != nil || again != id || !adopted {
		t.Fatalf("create again = %q, %v, %v; want %q adopted", again, adopted, err, id)
	}

	if _, err := e.d.Inspect(ctx, e.name("missing")); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("inspect missing: err = %v, want ErrNotFound", err)
	}
	_, _, err = e.d.CreateContainer(ctx, ContainerSpec{Name: e.name("noimage"), Image: "appfactory-test/none:" + e.id, Labels: e.labels})
	if !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("create from a missing image: err = %v, want ErrNotFound", err)
	}
}

func TestContainerConfigRejects(t *testing.T) {
	ok := ContainerSpec{Name: "af-x-web-1", Image: "img", Network: "af-x"}
	for _, tc := range []struct {
		name   string
		mutate func(*ContainerSpec)
	}{
		{"no name", func(s *ContainerSpec) { s.Name = "" }},
		{"no image", func(s *ContainerSpec) { s.Image = "" }},
		{"host network", func(s *ContainerSpec) { s.Network = "host" }},
		{"default bridge", func(s *ContainerSpec) { s.Network = "bridge" }},
		{"another container's namespace", func(s *ContainerSpec) { s.Network = "container:abc" }},
		{"aliases without network", func(s *ContainerSpec) { s.Network = ""; s.Aliases = []string{"web"} }},
		{"bind mount", func(s *ContainerSpec) { s.Volumes = []runtime.VolumeMount{{Name: "/etc", Target: "/data"}} }},
		{"relative source", func(s *ContainerSpec) { s.Volumes = []runtime.VolumeMount{{Name: "./x", Target: "/data"}} }},
		{"relative target", func(s *ContainerSpec) { s.Volumes = []runtime.VolumeMount{{Name: "af-x-data", Target: "data"}} }},
		{"root target", func(s *ContainerSpec) { s.Volumes = []runtime.VolumeMount{{Name: "af-x-data", Target: "/"}} }},
		{"tiny memory", func(s *ContainerSpec) { s.MemoryBytes = 1 << 20 }},
		{"negative cpus", func(s *ContainerSpec) { s.CPUs = -1 }},
		{"negative pids", func(s *ContainerSpec) { s.PidsLimit = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mutate(&s)
			if _, _, _, err := containerConfig(s); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, _, _, err := containerConfig(ok); err != nil {
		t.Fatalf("valid spec refused: %v", err)
	}
}

// An internal network has no way out, yet the host reaches its containers
// by address: the router depends on it.
func TestInternalNetworkReachableFromHost(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	image := e.image(t)
	netName, _, subnet := e.network(t, "net", true)
	id := e.container(t, serverSpec(e.name("web-1"), image, netName, ""))
	base := e.startReady(t, id, netName)
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(base, "http://"), ":8080")); err != nil || !subnet.Contains(ip) {
		t.Errorf("address %s not in %s", base, subnet)
	}
	if got := httpGet(t, base+"/healthz"); got != "ok\n" {
		t.Errorf("healthz = %q", got)
	}
}

func TestVolumeDataSurvivesRecreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	vol := e.volume(t, "data")
	spec := serverSpec(e.name("store-1"), image, netName, vol)

	id := e.container(t, spec)
	base := e.startReady(t, id, netName)
	if status, body := httpPost(t, base+"/data", "kept across containers"); status != http.StatusNoContent {
		t.Fatalf("POST /data: %d %s", status, body)
	}
	if err := e.d.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}

	id2 := e.container(t, spec)
	if id2 == id {
		t.Fatal("recreate returned the removed container's id")
	}
	base = e.startReady(t, id2, netName)
	if got := httpGet(t, base+"/data"); got != "kept across containers" {
		t.Errorf("GET /data after recreate = %q", got)
	}
}

func TestListContainersByLabel(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	web := serverSpec(e.name("web-1"), image, netName, "")
	web.Labels = map[string]string{"appfactory.service": "web"}
	store := serverSpec(e.name("store-1"), image, netName, "")
	store.Labels = map[string]string{"appfactory.service": "store"}
	webID := e.container(t, web)
	storeID := e.container(t, store)
	e.startReady(t, webID, netName)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		all    bool
		want   []string
	}{
		{"all of the test", map[string]string{testLabel: e.id}, true, []string{storeID, webID}},
		{"running only", map[string]string{testLabel: e.id}, false, []string{webID}},
		{"by value", map[string]string{testLabel: e.id, "appfactory.service": "store"}, true, []string{storeID}},
		{"by key", map[string]string{testLabel: e.id, "appfactory.service": ""}, true, []string{storeID, webID}},
		{"no match", map[string]string{testLabel: e.id, "appfactory.service": "cache"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := e.d.ListContainers(ctx, tc.labels, tc.all)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range list {
				got = append(got, c.ID)
				switch c.ID {
				case webID:
					if c.Name != web.Name || c.State != "running" || !c.Running || c.IPs[netName] == "" || c.Image != image {
						t.Errorf("web listed as %+v", c)
					}
				case storeID:
					if c.Name != store.Name || c.State != "created" || c.Running {
						t.Errorf("store listed as %+v", c)
					}
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
		})
	}
}

func httpPost(t testing.TB, url, body string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(got)
}

func httpGet(t testing.TB, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// A volume the engine makes for a mount, because it was not made first (or
// was removed meanwhile), carries the container's ownership labels, so the
// orphan sweep still finds it.
func TestVolumeMadeForMountIsLabelled(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	vol := e.name("made-by-mount")
	t.Cleanup(func() { _ = e.d.RemoveVolume(context.Background(), vol) })
	spec := serverSpec(e.name("store-1"), image, netName, vol)
	spec.Labels = map[string]string{"appfactory.tenant": "t-" + e.id, "appfactory.instance": "i-" + e.id}
	e.container(t, spec)
	vs, err := e.d.ListVolumes(ctx, map[string]string{"appfactory.instance": "i-" + e.id})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Name != vol || vs[0].Labels["appfactory.tenant"] != "t-"+e.id || vs[0].Labels[testLabel] != e.id {
		t.Fatalf("volumes of the instance: %+v, want %s with the container's labels", vs, vol)
	}
}
