package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/orchestrator"
	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/reconcile"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/stack"
	"appfactory/store"
)

// BenchmarkDeployAPI measures a deploy of an app whose image exists, from
// POST /api/v1/apps/{id}/deploy to the first 200 of the tenant's web
// container on its network address, through the real portal, reconciler
// and engine. Each deployment is deleted (untimed) before the next. Run
// with -benchtime 10x beside BenchmarkRawDeploy (package orchestrator).
func BenchmarkDeployAPI(b *testing.B) {
	if testing.Short() {
		b.Skip("needs the Docker engine")
	}
	ctx := context.Background()
	d, err := docker.New(ctx)
	if err != nil {
		b.Fatal(err)
	}
	idb := make([]byte, 4)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	instance := "bench-" + id
	labels := map[string]string{"appfactory.test": "1", "appfactory.test.id": id}
	cat, err := catalog.Load("")
	if err != nil {
		b.Fatal(err)
	}
	pool, _ := stack.NewSubnetPool(fmt.Sprintf("10.214.%d.0/24", mrand.IntN(256)))
	routes := route.NewRoutes()
	var svc *orchestrator.Service
	var r *reconcile.Reconciler
	env := handlerstest.NewServer(b, func(h *handlers.Handlers) {
		url := func(slug string) string { return "http://" + slug + ".localhost:8080/" }
		bp := &orchestrator.CatalogBlueprints{Catalog: cat, DataDir: b.TempDir(), PublicURL: url, SecretKey: []byte(id)}
		rt, err := docker.NewRuntime(d, docker.Options{Instance: instance, Subnets: reconcile.Subnets{DB: h.DB, Pool: pool}})
		if err != nil {
			b.Fatal(err)
		}
		r, err = reconcile.NewReconciler(reconcile.ReconcilerOptions{DB: h.DB, Runtime: rt, Blueprints: bp, Routes: routes, Labels: labels})
		if err != nil {
			b.Fatal(err)
		}
		svc = &orchestrator.Service{DB: h.DB, Catalog: cat, Blueprints: bp, Factory: r.Factory(), Reconciler: r, Routes: routes, PublicURL: url}
		h.Orchestrator, h.Deployer = svc, svc
	})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(rctx) }()
	b.Cleanup(func() {
		stop()
		<-done
		removeInstance(b, d, instance)
		tags, _ := env.DB.ImageTags(ctx)
		for _, tag := range tags {
			d.RemoveImage(ctx, tag)
		}
		d.Close()
	})

	owner := env.CreateUser(b, "bench@example.com", store.RoleAdmin)
	token := env.Token(b, owner.ID)
	app := readyApp(b, env.DB, owner, "Bench "+id)
	hc := &http.Client{Timeout: 2 * time.Second}

	deploy := func() (*store.Tenant, time.Duration) {
		start := time.Now()
		req, _ := http.NewRequest("POST", env.URL+"/api/v1/apps/"+app.ID+"/deploy", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var tj handlers.TenantJSON
		json.NewDecoder(resp.Body).Decode(&tj)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("deploy: %d", resp.StatusCode)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			if rt, ok := routes.Get(tj.Slug); ok && len(rt.Backends) > 0 {
				if resp, err := hc.Get("http://" + rt.Backends[0] + "/"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("tenant %s not answering after 60 s", tj.Slug)
			}
			time.Sleep(time.Millisecond)
		}
		took := time.Since(start)
		t, _ := env.DB.TenantByID(ctx, tj.ID)
		return t, took
	}
	remove := func(t *store.Tenant) {
		if err := svc.Delete(ctx, t, owner); err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got, _ := env.DB.TenantByID(ctx, t.ID)
			if got.State == domain.StateDeleted {
				return
			}
			if time.Now().After(deadline) {
				b.Fatalf("tenant %s not deleted after 30 s", t.Slug)
			}
		}
	}

	// The first deployment builds the image; the timed ones reuse it.
	t, _ := deploy()
	remove(t)
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, d := deploy()
		took = append(took, d)
		b.StopTimer()
		remove(t)
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}

// removeInstance removes every container, volume and network of an instance.
func removeInstance(tb testing.TB, d *docker.Docker, instance string) {
	tb.Helper()
	ctx := context.Background()
	only := map[string]string{docker.LabelInstance: instance}
	cs, _ := d.ListContainers(ctx, only, true)
	for _, c := range cs {
		if err := d.RemoveContainer(ctx, c.ID); err != nil {
			tb.Error(err)
		}
	}
	vs, _ := d.ListVolumes(ctx, only)
	for _, v := range vs {
		if err := d.RemoveVolume(ctx, v.Name); err != nil {
			tb.Error(err)
		}
	}
	ns, _ := d.ListNetworks(ctx, only)
	for _, n := range ns {
		if err := d.RemoveNetwork(ctx, n.ID); err != nil {
			tb.Error(err)
		}
	}
}
