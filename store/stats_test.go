package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/store"
)

func TestTenantStatsAddReadPrune(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := now.Add(time.Duration(i-4) * time.Hour)
		if err := db.AddTenantStats(ctx, at, []store.TenantStat{{TenantID: "t1", CPUPercent: float64(i), MemBytes: int64(i) << 20}, {TenantID: "t2", CPUPercent: 1, MemBytes: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	// The same minute again replaces the sample.
	if err := db.AddTenantStats(ctx, now, []store.TenantStat{{TenantID: "t1", CPUPercent: 9, MemBytes: 9}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.TenantStats(ctx, "t1", now.Add(-2*time.Hour))
	if err != nil || len(got) != 3 {
		t.Fatalf("stats: %+v %v", got, err)
	}
	if !got[0].At.Equal(now.Add(-2*time.Hour)) || got[2].CPUPercent != 9 || got[2].MemBytes != 9 {
		t.Errorf("stats order or values: %+v", got)
	}
	n, err := db.PruneTenantStats(ctx, now.Add(-90*time.Minute))
	if err != nil || n != 6 {
		t.Errorf("pruned %d, want 6 (%v)", n, err)
	}
	all, _ := db.TenantStats(ctx, "t1", time.Time{})
	if len(all) != 2 {
		t.Errorf("after prune %d samples of t1, want 2", len(all))
	}
}

func TestHostSamplesAndActivationsByHour(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	base := seedTenants(t, db, 80)
	s, err := db.SampleHost(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if s.Running != 20 || s.Passivated != 30 || s.Total != 70 {
		t.Errorf("host sample %+v, want 20 running, 30 passivated, 70 in all", s)
	}
	if _, err := db.SampleHost(ctx, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, err := db.HostSamples(ctx, base)
	if err != nil || len(list) != 2 || !list[1].At.Equal(base.Add(time.Minute)) {
		t.Fatalf("host samples %+v %v", list, err)
	}
	if n, _ := db.PruneHostSamples(ctx, base.Add(time.Second)); n != 1 {
		t.Errorf("pruned %d host samples, want 1", n)
	}

	for i, secs := range []float64{0.2, 0.4, 0.9, 1.5} {
		at := base.Add(time.Duration(i) * 20 * time.Minute) // 00:00, 00:20, 00:40, 01:00
		if _, err := db.W().Exec(`INSERT INTO activations (tenant_id, at, seconds) VALUES ('t1', ?, ?)`, store.TimeOf(at), secs); err != nil {
			t.Fatal(err)
		}
	}
	hours, err := db.ActivationsByHour(ctx, base, base.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 3 {
		t.Fatalf("%d hours, want 3", len(hours))
	}
	if hours[0].Count != 3 || hours[0].P50 != 0.4 || hours[1].Count != 1 || hours[1].P50 != 1.5 || hours[2].Count != 0 {
		t.Errorf("by hour: %+v", hours)
	}
}
