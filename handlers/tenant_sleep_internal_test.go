package handlers

import (
	"testing"
	"time"

	"appfactory/store"
)

func TestOwnIdleReadsBack(t *testing.T) {
	for _, d := range []time.Duration{2 * time.Hour, 90 * time.Minute, 45 * time.Minute, 90 * time.Second, 0, 720 * time.Hour} {
		p := store.TenantPolicy{Idle: &d}
		back, errs := parsePolicy(ownIdle(p), "", "")
		if len(errs) > 0 && d >= time.Minute {
			t.Errorf("%s written %q does not read back: %v", d, ownIdle(p), errs)
			continue
		}
		if len(errs) == 0 && (back.Idle == nil || *back.Idle != d) {
			t.Errorf("%s written %q reads back as %v", d, ownIdle(p), back.Idle)
		}
	}
	if got := ownIdle(store.TenantPolicy{}); got != "" {
		t.Errorf("no idle of its own written %q", got)
	}
}
