package sleep

import (
	"context"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

func TestPassivatorMetersAwakeAndUnusedTime(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{PauseOverride: 0, IdleOverride: time.Hour})
	f.addRunning(t, "busy", "busy1", "trial", time.Time{})
	f.addRunning(t, "idle", "idle1", "trial", time.Time{})
	f.addRunning(t, "paused", "paused1", "trial", time.Time{})
	f.routes.Set(route.Route{TenantID: "paused", Slug: "paused1", State: domain.StatePaused})
	end := f.activity.Begin("busy") // in use all along
	defer end()
	for range 91 {
		f.check(t)
		f.advance(time.Second)
	}
	ctx := context.Background()
	if err := f.p.meter.flush(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	since := f.clock().Add(-24 * time.Hour)
	for _, tc := range []struct {
		id            string
		awake, unused time.Duration
	}{
		{"busy", 90 * time.Second, 0},
		{"idle", 90 * time.Second, 31 * time.Second}, // idle from 60 s to 90 s
		{"paused", 0, 0},
	} {
		r, err := f.db.TenantWakeReport(ctx, tc.id, since)
		if err != nil {
			t.Fatal(err)
		}
		if r.Awake != tc.awake || r.Unused != tc.unused {
			t.Errorf("%s: awake %s, unused %s; want %s, %s", tc.id, r.Awake, r.Unused, tc.awake, tc.unused)
		}
	}
	rank, err := f.db.RankAwakeUnused(ctx, since, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rank) != 1 || rank[0].TenantID != "idle" {
		t.Errorf("ranking %+v, want the idle tenant alone", rank)
	}
}
