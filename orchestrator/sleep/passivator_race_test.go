package sleep

import (
	"errors"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

func TestPassivatorTakesRouteOutOfServiceBeforeStopping(t *testing.T) {
	tests := []struct {
		name      string
		stopErr   error
		wantState string
		wantBack  bool
	}{
		{name: "stopped", wantState: "passivated"},
		{name: "stop failed, route back in service", stopErr: errors.New("engine gone"), wantState: domain.StateRunning, wantBack: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPassivatorFixture(t, PassivatorConfig{IdleOverride: 3 * time.Second, PauseOverride: 0})
			f.addRunning(t, "t1", "trial1", "trial", time.Time{})
			var during route.Route
			f.sleeper.onPassivate = func(string) error {
				during, _ = f.routes.Get("trial1")
				return tc.stopErr
			}
			f.advance(4 * time.Second)
			f.check(t)
			if during.State != domain.StatePassivating || len(during.Backends) != 0 {
				t.Fatalf("route while stopping = %+v, want passivating with no backends", during)
			}
			got, _ := f.routes.Get("trial1")
			if got.State != tc.wantState || (len(got.Backends) > 0) != tc.wantBack {
				t.Errorf("route after = %+v, want state %s, backends %v", got, tc.wantState, tc.wantBack)
			}
		})
	}
}

// A request that begins after the idle check but before the route is taken
// out of service keeps the tenant awake: the passivator looks again once
// the route is out of service and puts it back.
func TestPassivatorLastLookKeepsBusyTenantAwake(t *testing.T) {
	f := newPassivatorFixture(t, PassivatorConfig{IdleOverride: 3 * time.Second, PauseOverride: 0})
	f.addRunning(t, "t1", "trial1", "trial", time.Time{})
	f.advance(4 * time.Second)
	var end func()
	// The subscriber runs when the route is taken out of service: a request
	// that began just before (it read the running route) is now in flight.
	f.routes.Subscribe(func(r route.Route, _ bool) {
		if r.State == domain.StatePassivating && end == nil {
			end = f.activity.Begin("t1")
		}
	})
	f.check(t)
	if end == nil {
		t.Fatal("route never taken out of service")
	}
	defer end()
	if n := f.sleeper.count("passivate:t1"); n != 0 {
		t.Errorf("tenant with a request in flight passivated %d times", n)
	}
	got, _ := f.routes.Get("trial1")
	if got.State != domain.StateRunning || len(got.Backends) != 1 {
		t.Errorf("route = %+v, want running again with its backend", got)
	}
}
