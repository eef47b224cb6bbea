package handlers_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/factory"
	"appfactory/store"
)

// logStack runs three labelled containers of a tenant (store-1, web-1,
// web-2, no network) on the real engine, removed when the test ends.
func logStack(t *testing.T, d *docker.Docker, instance, tenantID string) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the Docker engine")
	}
	b := make([]byte, 4)
	rand.Read(b)
	id := hex.EncodeToString(b)
	labels := map[string]string{"appfactory.test": "1", "appfactory.test.id": id}
	bin := filepath.Join(t.TempDir(), "server")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "../orchestrator/testdata/testserver")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build test server: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(bin)
	bc := factory.NewBuildContext()
	bc.Add("Dockerfile", 0, []byte("FROM scratch\nCOPY server /server\nENTRYPOINT [\"/server\"]\n"))
	bc.Add("server", 0o755, data)
	r, err := bc.Reader()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tag := "appfactory-test/logs:" + id
	if _, err := d.BuildImage(ctx, r, []string{tag}, labels, nil); err != nil {
		t.Fatalf("build image: %v", err)
	}
	t.Cleanup(func() { d.RemoveImage(context.Background(), tag) })
	project := "af-logs-" + id
	ids := map[string]string{}
	for _, name := range []string{"store-1", "web-1", "web-2"} {
		service, n, _ := strings.Cut(name, "-")
		l := map[string]string{docker.LabelTenant: tenantID, docker.LabelInstance: instance, "appfactory.service": service,
			"com.docker.compose.project": project, "com.docker.compose.service": service, "com.docker.compose.container-number": n}
		for k, v := range labels {
			l[k] = v
		}
		cid, _, err := d.CreateContainer(ctx, docker.ContainerSpec{Name: project + "-" + name, Image: tag, Labels: l,
			MemoryBytes: 32 << 20, PidsLimit: 32, User: "65534:65534", StopTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.RemoveContainer(context.Background(), cid) })
		if err := d.Start(ctx, cid); err != nil {
			t.Fatal(err)
		}
		ids[name] = cid
	}
	return ids
}

func TestTenantLogsFromRealContainers(t *testing.T) {
	ctx := context.Background()
	d, err := docker.New(ctx)
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	defer d.Close()
	instance := "logs-" + store.NewID()[:8]
	rt, err := docker.NewRuntime(d, docker.Options{Instance: instance})
	if err != nil {
		t.Fatal(err)
	}
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) { h.Monitoring.Runtime = rt })
	owner := env.SignUp(t, "owner@example.com", store.RoleProspect)
	tok := env.Token(t, owner.User.ID)
	app := &store.App{OwnerID: owner.User.ID, Name: "Logs", Platform: "contentapp", Version: "1.0", Environment: "trial"}
	if err := env.DB.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	tenant := &store.Tenant{AppID: app.ID, OwnerID: owner.User.ID, CreatedBy: owner.User.ID, Slug: "logs-" + store.NewID()[:6],
		Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 2}
	if err := env.DB.CreateTenant(ctx, tenant, 0); err != nil {
		t.Fatal(err)
	}
	ids := logStack(t, d, instance, tenant.ID)

	get := func(t *testing.T, query string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/api/v1/tenants/"+tenant.ID+"/logs"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, handlerstest.Body(t, resp)
	}
	// The servers log "listening" as they start.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, body := get(t, ""); strings.Count(body, "listening") == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cases := []struct {
		query     string
		status    int
		want, not []string
		maxLines  int
	}{
		{"", 200, []string{"store-1 | ", "web-1 | ", "web-2 | ", "listening"}, nil, 0},
		{"?service=web", 200, []string{"web-1 | ", "web-2 | "}, []string{"store-1"}, 0},
		{"?service=web-2", 200, []string{"listening"}, []string{" | "}, 0},
		{"?tail=1", 200, []string{" | "}, nil, 1},
		{"?service=nope", 404, nil, nil, 0},
		{"?tail=-3", 400, nil, nil, 0},
	}
	for _, c := range cases {
		t.Run("logs"+c.query, func(t *testing.T) {
			status, body := get(t, c.query)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("no %q in\n%s", w, body)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("%q in\n%s", n, body)
				}
			}
			if n := strings.Count(body, "\n"); c.maxLines > 0 && n > c.maxLines {
				t.Errorf("%d lines, want at most %d", n, c.maxLines)
			}
		})
	}

	t.Run("live stream under a token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/api/v1/tenants/"+tenant.ID+"/logs/stream?service=web-2", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("API stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: ") {
		}
		if !strings.Contains(sc.Text(), "listening") {
			t.Errorf("API stream's first line %q", sc.Text())
		}
	})
	t.Run("live stream ends when the container stops", func(t *testing.T) {
		resp := owner.Get(t, "/tenants/"+tenant.ID+"/logs/stream?service=web-1")
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		seen := func(want string) {
			t.Helper()
			for sc.Scan() {
				if strings.Contains(sc.Text(), want) {
					return
				}
			}
			t.Fatalf("stream ended before %q: %v", want, sc.Err())
		}
		seen("data: ")
		go d.Stop(context.Background(), ids["web-1"], 2*time.Second)
		seen("shutting down")
		seen("event: end")
	})
	t.Run("stream hidden from others", func(t *testing.T) {
		other := env.SignUp(t, "other@example.com", store.RoleProspect)
		if resp := other.Get(t, "/tenants/"+tenant.ID+"/logs/stream"); resp.StatusCode != 404 {
			t.Errorf("other's stream: %d", resp.StatusCode)
		}
	})
}
