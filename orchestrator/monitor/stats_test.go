package monitor

import (
	"context"
	"testing"
	"time"

	"appfactory/orchestrator/docker"
	"appfactory/orchestrator/internal/enginetest"
	"appfactory/store"
)

// TestSamplerSamplesRunningTenantsOnly runs three tenants on the real
// engine: one with two running containers, one paused, one stopped. Only
// the first is sampled (its containers summed), old samples are pruned, and
// the host sample counts the tenants of the database.
func TestSamplerSamplesRunningTenantsOnly(t *testing.T) {
	env := enginetest.New(t)
	image := env.Image(t)
	network, _, _ := env.Network(t, "net", false)
	instance := "test-" + env.ID
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	run := func(tenant, name string) string {
		t.Helper()
		spec := enginetest.ServerSpec(env.Name(name), image, network, "")
		spec.Labels = map[string]string{docker.LabelInstance: instance, docker.LabelTenant: tenant}
		id := env.Container(t, spec)
		env.StartReady(t, id, network)
		return id
	}
	run("busy", "busy-web-1")
	run("busy", "busy-web-2")
	if err := env.D.Pause(ctx, run("asleep", "asleep-web-1")); err != nil {
		t.Fatal(err)
	}
	stopped := run("passive", "passive-web-1")
	if err := env.D.Stop(ctx, stopped, time.Second); err != nil {
		t.Fatal(err)
	}
	// Another instance's container on the same engine is none of ours.
	other := enginetest.ServerSpec(env.Name("other-web-1"), image, network, "")
	other.Labels = map[string]string{docker.LabelInstance: "another", docker.LabelTenant: "other"}
	env.StartReady(t, env.Container(t, other), network)

	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	if err := db.AddTenantStats(ctx, now.Add(-25*time.Hour), []store.TenantStat{{TenantID: "busy", CPUPercent: 1, MemBytes: 1}}); err != nil {
		t.Fatal(err)
	}
	s := &Sampler{Runtime: env.Runtime(t, instance), Store: db, Now: func() time.Time { return now }}
	start := time.Now()
	res, err := s.SampleOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sampled %d containers of %d tenants in %v", res.Containers, res.Tenants, time.Since(start))
	if res.Containers != 2 || res.Tenants != 1 || res.Failed != 0 || res.Pruned != 1 {
		t.Errorf("result %+v, want 2 containers of 1 tenant, 1 pruned", res)
	}
	if !res.At.Equal(now.Truncate(time.Minute)) {
		t.Errorf("stamped %v, want the minute", res.At)
	}
	busy, _ := db.TenantStats(ctx, "busy", time.Time{})
	if len(busy) != 1 || busy[0].MemBytes < 1<<20 {
		t.Errorf("busy samples %+v, want one with the memory of two servers", busy)
	}
	for _, id := range []string{"asleep", "passive", "other"} {
		if got, err := db.TenantStats(ctx, id, time.Time{}); err != nil || len(got) != 0 {
			t.Errorf("%s was sampled: %+v %v", id, got, err)
		}
	}
	hosts, _ := db.HostSamples(ctx, time.Time{})
	if len(hosts) != 1 || hosts[0].Total != 0 {
		t.Errorf("host samples %+v", hosts)
	}
}
