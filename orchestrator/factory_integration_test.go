package orchestrator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/internal/enginetest"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// bundle makes a .tar.gz custom component and stores it as an upload of the
// test user, returning its id.
func (e *factoryEnv) bundle(t *testing.T, name string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{
		{"component.yaml", "name: " + name + "\nversion: 1.2.0\ndescription: Stamps invoices " + e.ID + "\n"},
		{"templates/stamp.html", "<p>stamped</p>\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(buf.Bytes())
	sha := hex.EncodeToString(sum[:])
	path := store.ComponentBlobPath(e.blueprints().DataDir, sha, "tar.gz")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.db.CreateCustomComponent(context.Background(), &store.CustomComponent{OwnerID: e.user.ID, SHA256: sha, Name: name,
		Version: "1.2.0", Filename: name + ".tar.gz", Format: "tar.gz", Size: int64(buf.Len()), Files: 2})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestDeployBuildsHardenedStackAndReusesImage deploys a one-replica app
// with a catalog component and an uploaded one, checks the stack, the
// hardening the engine reports, the tenant's page, and that a second
// deployment of the same assembly reuses the image.
func TestDeployBuildsHardenedStackAndReusesImage(t *testing.T) {
	e := newFactoryEnv(t)
	ctx := context.Background()
	a := e.app(t, "Acme", "1.0", "trial", 1, "comments")
	a.SetCustomComponents([]string{e.bundle(t, "invoice-stamp")})
	if err := e.db.UpdateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tn := e.deploy(t, a)
	t.Logf("first deploy with a build: %s", time.Since(start))

	cs, ns, vs := e.objects(t, tn.ID)
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	if p := docker.NamePrefix(e.instance, tn.Slug); !slices.Equal(names, []string{p + "-store-1", p + "-web-1"}) {
		t.Errorf("containers %v, want %s-store-1 and %s-web-1", names, p, p)
	}
	if len(ns) != 1 || ns[0].Name != docker.NetworkName(e.instance, tn.Slug) || !ns[0].Internal || ns[0].Subnet != tn.Subnet {
		t.Errorf("network %+v, want %s internal on %s", ns, docker.NetworkName(e.instance, tn.Slug), tn.Subnet)
	}
	if len(vs) != 1 || vs[0].Name != docker.VolumeName(e.instance, tn.Slug, "data") {
		t.Errorf("volumes %+v", vs)
	}

	for _, c := range cs {
		raw, err := enginetest.Inspect(ctx, e.D, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		h := raw.HostConfig
		checks := map[string]bool{
			"memory 256 MiB":         h.Memory == 256<<20,
			"swap = memory":          h.MemorySwap == h.Memory,
			"cpus 0.5":               h.NanoCPUs == 5e8,
			"pids 256":               h.PidsLimit != nil && *h.PidsLimit == 256,
			"cap drop ALL":           slices.Equal(h.CapDrop, []string{"ALL"}),
			"no-new-privileges":      slices.Contains(h.SecurityOpt, "no-new-privileges"),
			"read-only root":         h.ReadonlyRootfs,
			"tmpfs /tmp":             h.Tmpfs["/tmp"] != "",
			"not privileged":         !h.Privileged,
			"no published port":      len(h.PortBindings) == 0 && !h.PublishAllPorts,
			"no host namespaces":     h.NetworkMode != "host" && h.PidMode != "host" && h.IpcMode != "host" && h.UTSMode != "host",
			"json-file logs bounded": h.LogConfig.Type == "json-file" && h.LogConfig.Config["max-size"] != "" && h.LogConfig.Config["max-file"] != "",
			"restart unless-stopped": h.RestartPolicy.Name == "unless-stopped",
			"tenant network":         string(h.NetworkMode) == docker.NetworkName(e.instance, tn.Slug),
		}
		for _, m := range raw.Mounts {
			if m.Type == "bind" {
				checks["no bind mount "+m.Source] = false
			}
		}
		for what, ok := range checks {
			if !ok {
				t.Errorf("%s: %s", c.Name, what)
			}
		}
		l := raw.Config.Labels
		for k, want := range map[string]string{docker.LabelTenant: tn.ID, docker.LabelInstance: e.instance, docker.LabelGeneration: "1",
			docker.LabelComposeProject: "af-" + tn.Slug, docker.LabelComposeService: l[docker.LabelService]} {
			if l[k] != want || want == "" {
				t.Errorf("%s: label %s = %q, want %q", c.Name, k, l[k], want)
			}
		}
		if l[docker.LabelConfigHash] == "" || l[docker.LabelComposeNumber] != "1" {
			t.Errorf("%s: config hash %q, number %q", c.Name, l[docker.LabelConfigHash], l[docker.LabelComposeNumber])
		}
	}

	status, body := get(t, e.webURL(t, tn.Slug)+"/")
	for _, want := range []string{"Acme Docs " + e.ID, "Contract", "invoice-stamp"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("tenant page (%d) lacks %q", status, want)
		}
	}
	b, _ := e.db.LastBuild(ctx, tn.ID)
	if b == nil || b.Result != store.BuildOK || !strings.Contains(b.Log, "COPY rootfs/ /") {
		t.Errorf("build record: %+v", b)
	}

	// The same assembly again: no build, the same image.
	start = time.Now()
	tn2 := e.deploy(t, a)
	t.Logf("second deploy, image reused: %s", time.Since(start))
	if tn2.Slug == tn.Slug || tn2.Image != tn.Image {
		t.Fatalf("second tenant %s image %s, first %s image %s", tn2.Slug, tn2.Image, tn.Slug, tn.Image)
	}
	b2, _ := e.db.LastBuild(ctx, tn2.ID)
	if b2 == nil || b2.Result != store.BuildReused {
		t.Errorf("second build record: %+v", b2)
	}
	c1, _ := e.D.Inspect(ctx, docker.NamePrefix(e.instance, tn.Slug)+"-web-1")
	c2, _ := e.D.Inspect(ctx, docker.NamePrefix(e.instance, tn2.Slug)+"-web-1")
	if c1.ImageID == "" || c1.ImageID != c2.ImageID {
		t.Errorf("image ids %s and %s", c1.ImageID, c2.ImageID)
	}
}

// TestDeployTwoReplicasBothServe deploys a demo with two web replicas.
func TestDeployTwoReplicasBothServe(t *testing.T) {
	e := newFactoryEnv(t)
	tn := e.deploy(t, e.app(t, "Twin", "2.0", "demo", 2))
	r, _ := e.routes.Get(tn.Slug)
	if len(r.Backends) != 2 || r.Backends[0] == r.Backends[1] || r.State != domain.StateRunning {
		t.Fatalf("route %+v", r)
	}
	for _, b := range r.Backends {
		if status, body := get(t, "http://"+b+"/"); status != 200 || !strings.Contains(body, "Twin Docs") {
			t.Errorf("replica %s answered %d", b, status)
		}
	}
	cs, _, _ := e.objects(t, tn.ID)
	if len(cs) != 3 {
		t.Errorf("%d containers, want store + 2 web", len(cs))
	}
	c, _ := enginetest.Inspect(context.Background(), e.D, docker.NamePrefix(e.instance, tn.Slug)+"-web-2")
	if c.HostConfig.Memory != 512<<20 || c.Config.Labels[docker.LabelComposeNumber] != "2" {
		t.Errorf("web-2: memory %d number %s", c.HostConfig.Memory, c.Config.Labels[docker.LabelComposeNumber])
	}
	if aliases := c.NetworkSettings.Networks[docker.NetworkName(e.instance, tn.Slug)].Aliases; !slices.Contains(aliases, "web") {
		t.Errorf("web-2 aliases %v", aliases)
	}
}

// TestTenantsCannotReachEachOther runs a probe on tenant A's network: it
// reaches A's web container and not B's.
func TestTenantsCannotReachEachOther(t *testing.T) {
	e := newFactoryEnv(t)
	a := e.deploy(t, e.app(t, "Alpha", "1.0", "trial", 1))
	b := e.deploy(t, e.app(t, "Beta", "1.0", "trial", 1))
	probe := func(network, target string) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		name := e.Name("probe-" + strings.ReplaceAll(strings.ReplaceAll(target, ".", "-"), ":", "-"))
		id, _, err := e.D.CreateContainer(ctx, docker.ContainerSpec{
			Name: name, Image: a.Image, Cmd: []string{"health", "http://" + target + "/healthz"},
			Network: network, Labels: e.With(nil), MemoryBytes: 32 << 20, CPUs: 0.2, PidsLimit: 32,
		})
		if err != nil {
			t.Fatal(err)
		}
		// The probe restarts on failure (unless-stopped, like every
		// container of the adapter): remove it until it is gone.
		defer func() {
			for i := 0; i < 100; i++ {
				if err := e.D.RemoveContainer(context.Background(), id); err == nil {
					if _, err := e.D.Inspect(context.Background(), id); errors.Is(err, runtime.ErrNotFound) {
						return
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Errorf("probe container %s not removed", name)
		}()
		if err := e.D.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
		code, err := e.D.Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	ra, _ := e.routes.Get(a.Slug)
	rb, _ := e.routes.Get(b.Slug)
	if code := probe(docker.NetworkName(e.instance, a.Slug), ra.Backends[0]); code != 0 {
		t.Fatalf("a probe on A's network cannot reach A's web (exit %d): the probe itself is broken", code)
	}
	if code := probe(docker.NetworkName(e.instance, a.Slug), rb.Backends[0]); code == 0 {
		an, _ := e.D.InspectNetwork(context.Background(), docker.NetworkName(e.instance, a.Slug))
		bn, _ := e.D.InspectNetwork(context.Background(), docker.NetworkName(e.instance, b.Slug))
		t.Fatalf("a container on A's network (%s, backends %v) reached B's web at %s (B's network %s, backends %v)",
			an.Subnet, ra.Backends, rb.Backends[0], bn.Subnet, rb.Backends)
	}
}

// TestUpgradeKeepsData writes a document through the web container,
// upgrades 1.0 to 2.0 and finds the document again.
func TestUpgradeKeepsData(t *testing.T) {
	e := newFactoryEnv(t)
	ctx := context.Background()
	tn := e.deploy(t, e.app(t, "Keeper", "1.0", "trial", 1))
	web := e.webURL(t, tn.Slug)
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(web+"/documents", url.Values{"doctype": {"Contract"}, "title": {"Kept across upgrades"}, "f.amount": {"42"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("create document: %s", resp.Status)
	}
	if _, body := get(t, web+"/"); !strings.Contains(body, "Kept across upgrades") {
		t.Fatal("document not listed before the upgrade")
	}
	oldImage := tn.Image
	if err := e.svc.Upgrade(ctx, tn, e.user, "2.0"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, _ := e.db.TenantByID(ctx, tn.ID)
		if got.Generation == 2 && got.State == domain.StateRunning && got.Image != "" {
			tn = got
			break
		}
		if time.Now().After(deadline) || got.State == domain.StateFailed {
			e.fatalWithEvents(t, tn.ID, "no upgrade to generation 2 in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if tn.Version != "2.0" || tn.Image == oldImage {
		t.Fatalf("after upgrade: version %s image %s (was %s)", tn.Version, tn.Image, oldImage)
	}
	cs, _, vs := e.objects(t, tn.ID)
	for _, c := range cs {
		if c.Labels[docker.LabelGeneration] != "2" || c.Image != tn.Image {
			t.Errorf("%s: generation %s image %s", c.Name, c.Labels[docker.LabelGeneration], c.Image)
		}
	}
	if len(cs) != 2 || len(vs) != 1 {
		t.Errorf("%d containers, %d volumes after upgrade", len(cs), len(vs))
	}
	web = e.webURL(t, tn.Slug)
	if _, body := get(t, web+"/"); !strings.Contains(body, "Kept across upgrades") {
		t.Fatal("the document did not survive the upgrade")
	}
}

// TestDeleteLeavesNothingAndOrphansGo deletes a tenant, then plants an
// object of the instance for a tenant that does not exist and waits for
// the sweep to remove it.
func TestDeleteLeavesNothingAndOrphansGo(t *testing.T) {
	e := newFactoryEnv(t)
	ctx := context.Background()
	tn := e.deploy(t, e.app(t, "Gone", "1.0", "trial", 1))
	if err := e.svc.Delete(ctx, tn, e.user); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.routes.Get(tn.Slug); ok {
		t.Error("the route outlived the delete request")
	}
	e.waitState(t, tn.ID, domain.StateDeleted, 30*time.Second)
	if cs, ns, vs := e.objects(t, tn.ID); len(cs)+len(ns)+len(vs) != 0 {
		t.Fatalf("left behind: %d containers, %d networks, %d volumes", len(cs), len(ns), len(vs))
	}
	// Its image went with its last tenant.
	if _, ok, err := e.D.ImageID(ctx, tn.Image); err != nil || ok {
		t.Errorf("image %s of no tenant left behind (err %v)", tn.Image, err)
	}

	labels := e.With(map[string]string{docker.LabelTenant: "no-such-tenant", docker.LabelInstance: e.instance})
	vol := e.Name("orphan")
	if err := e.D.EnsureVolume(ctx, docker.VolumeSpec{Name: vol, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	id, _, err := e.D.CreateContainer(ctx, docker.ContainerSpec{Name: e.Name("orphan"), Image: platformImages[0], Labels: labels,
		Volumes: []runtime.VolumeMount{{Name: vol, Target: "/data"}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Gone means the engine says so: a failed call is not an absence.
		_, cerr := e.D.Inspect(ctx, id)
		if cerr != nil && !errors.Is(cerr, runtime.ErrNotFound) {
			t.Fatalf("inspect orphan: %v", cerr)
		}
		vs, err := e.D.ListVolumes(ctx, map[string]string{docker.LabelTenant: "no-such-tenant", enginetest.TestLabel: e.ID})
		if err != nil {
			t.Fatalf("list volumes: %v", err)
		}
		if cerr != nil && len(vs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphans still there after 15 s (container err %v, volumes %d)", cerr, len(vs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKilledContainerComesBack kills a web container behind the
// orchestrator's back; it runs again (started by the reconciler's resync
// or the engine's restart policy) and serves.
func TestKilledContainerComesBack(t *testing.T) {
	e := newFactoryEnv(t)
	ctx := context.Background()
	tn := e.deploy(t, e.app(t, "Phoenix", "1.0", "trial", 1))
	name := docker.NamePrefix(e.instance, tn.Slug) + "-web-1"
	if err := e.D.Kill(ctx, name, "KILL"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := e.D.Inspect(ctx, name)
		if err == nil && c.Running {
			break
		}
		if time.Now().After(deadline) {
			e.fatalWithEvents(t, tn.ID, "the killed container is not running again after 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	evs, _ := e.db.ListEvents(ctx, tn.ID, 0, 0)
	for _, ev := range evs {
		t.Logf("%s %s", ev.Kind, ev.Message)
	}
	if r, ok := e.routes.Get(tn.Slug); !ok || len(r.Backends) != 1 {
		t.Fatalf("route %+v", r)
	}
	// The route may point at the old address until the pass that noticed
	// the death has run; wait for it to answer.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, _ := e.routes.Get(tn.Slug)
		if status, _ := getQuiet("http://" + r.Backends[0] + "/healthz"); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			e.fatalWithEvents(t, tn.ID, "the route does not reach the restarted container")
		}
	}
}
