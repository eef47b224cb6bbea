package webhooks_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/store"
)

// tenantEvents delivers what is queued and returns the tenant events the
// receiver got, by event name.
func tenantEvents(t *testing.T, e *env, rcv *receiver) map[string][]store.TenantEventData {
	t.Helper()
	e.drain(t)
	out := map[string][]store.TenantEventData{}
	for _, r := range rcv.requests() {
		env := decode(t, r.Body)
		var d store.TenantEventData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			t.Fatal(err)
		}
		out[env.Event] = append(out[env.Event], d)
	}
	return out
}

func TestTenantEventsAreQueuedWhereTheyHappen(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t)
	e.hook(t, rcv.URL, store.EventDeployed, store.EventFirstActivity, store.EventTrialExtended, store.EventDeleted)
	tn := e.tenant(t, "acme")

	// Deployed: the first time the tenant runs, and only then.
	for _, st := range []string{domain.StateBuilding, domain.StateRunning, domain.StatePassivated, domain.StateRunning} {
		if err := e.db.SetTenantState(ctx, tn.ID, st, ""); err != nil {
			t.Fatal(err)
		}
	}
	// First activity: the first flush with a request, and only that one.
	for range 2 {
		if err := e.db.RecordActivity(ctx, []store.TenantActivity{{TenantID: tn.ID, LastActive: time.Now(), Day: "2026-01-01", Requests: 3}}); err != nil {
			t.Fatal(err)
		}
	}
	until, _, err := e.db.ExtendTenant(ctx, tn.ID, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetDesiredState(ctx, tn.ID, domain.DesiredDeleted); err != nil {
		t.Fatal(err)
	}
	got := tenantEvents(t, e, rcv)
	for _, ev := range []string{store.EventDeployed, store.EventFirstActivity, store.EventTrialExtended, store.EventDeleted} {
		if len(got[ev]) != 1 {
			t.Fatalf("%s delivered %d times, want once (all: %v)", ev, len(got[ev]), got)
		}
		d := got[ev][0]
		if d.Tenant.ID != tn.ID || d.Tenant.Slug != "acme" || d.Owner.Email != "acme@example.com" || d.Owner.Company != "Acme" {
			t.Errorf("%s data %+v", ev, d)
		}
	}
	if ext := got[store.EventTrialExtended][0].Tenant.ExpiresAt; ext == nil || !ext.Equal(until) {
		t.Errorf("extended tells expiry %v, want %v", ext, until)
	}
	if got[store.EventDeployed][0].Tenant.State != domain.StateRunning {
		t.Errorf("deployed tells state %q", got[store.EventDeployed][0].Tenant.State)
	}
}

func TestOnlySubscribedEnabledHooksAreQueued(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	signups, deploys := newReceiver(t), newReceiver(t)
	e.hook(t, signups.URL, store.EventSignUp)
	off, _ := e.hook(t, deploys.URL, store.EventDeployed)
	if _, err := e.svc.SetEnabled(ctx, off.ID, false, e.admin); err != nil {
		t.Fatal(err)
	}
	tn := e.tenant(t, "quiet")
	if err := e.db.SetTenantState(ctx, tn.ID, domain.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if n, m := len(signups.requests()), len(deploys.requests()); n != 0 || m != 0 {
		t.Fatalf("requests %d and %d, want none", n, m)
	}
}

// The mail notices call OnNotice with their kinds: 3 days and 1 day left
// queue trial.expiring, the end trial.expired, a ready notice nothing.
func TestTrialNoticeDelivers(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t)
	e.hook(t, rcv.URL, store.EventTrialExpiring, store.EventTrialExpired)
	tn := e.tenant(t, "trial")
	for _, kind := range []string{store.NoticeExpiring3Days, store.NoticeReady, store.NoticeExpiring1Day, store.NoticeExpired} {
		if err := e.svc.OnNotice(context.Background(), kind, tn); err != nil {
			t.Fatal(err)
		}
	}
	got := tenantEvents(t, e, rcv)
	if len(got[store.EventTrialExpiring]) != 2 || len(got[store.EventTrialExpired]) != 1 {
		t.Fatalf("got %v", got)
	}
	if d := got[store.EventTrialExpiring][0]; d.Tenant.ID != tn.ID || d.Tenant.ExpiresAt == nil || d.Owner.Email != "trial@example.com" {
		t.Errorf("data %+v", d)
	}
}

func TestRunDeliversUntilCancelled(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t)
	w, _ := e.hook(t, rcv.URL, store.EventTrialExpiring)
	e.svc.Wake = e.disp.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.disp.Run(ctx) }()
	if err := e.svc.Enqueue(ctx, store.EventTrialExpiring, map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	for {
		ds := e.deliveries(t, w.ID)
		if ds[0].State == store.DeliveryDelivered {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
