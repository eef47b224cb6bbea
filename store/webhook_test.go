package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/store"
)

func TestWebhookDeliveriesAreLeased(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Now().UTC()
	db.Now = func() time.Time { return now }
	admin := &store.User{Email: "a@example.com", Name: "A", PasswordHash: "x", Role: store.RoleAdmin}
	if err := db.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	on := &store.Webhook{URL: "http://127.0.0.1:9/", Secret: "s", Enabled: true, CreatedBy: admin.ID}
	on.SetEvents([]string{store.EventTrialExpiring})
	other := &store.Webhook{URL: "http://127.0.0.1:9/", Secret: "s", Enabled: true, CreatedBy: admin.ID}
	other.SetEvents([]string{store.EventSignUp})
	for _, w := range []*store.Webhook{on, other} {
		if err := db.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.EnqueueWebhookEvent(ctx, store.EventTrialExpiring, map[string]int{"n": 1}); err != nil || n != 1 {
		t.Fatalf("queued %d (%v), want 1: only the hook of the event", n, err)
	}
	claim := func() []store.DueDelivery {
		t.Helper()
		ds, err := db.ClaimWebhookDeliveries(ctx, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	first := claim()
	if len(first) != 1 || first[0].Attempts != 1 || first[0].Secret != "s" || first[0].URL != on.URL {
		t.Fatalf("first claim %+v", first)
	}
	if again := claim(); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	// The dispatcher died holding it: once the lease is over, it is due.
	now = now.Add(time.Minute + time.Second)
	retaken := claim()
	if len(retaken) != 1 || retaken[0].ID != first[0].ID || retaken[0].Attempts != 2 {
		t.Fatalf("after the lease %+v", retaken)
	}
	if err := db.RecordWebhookAttempt(ctx, retaken[0].ID, store.DeliveryOutcome{Status: 503, RetryAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if due := claim(); len(due) != 0 {
		t.Fatalf("claimed before its retry time: %+v", due)
	}
	now = now.Add(time.Hour)
	on.Enabled = false
	if err := db.UpdateWebhook(ctx, on); err != nil {
		t.Fatal(err)
	}
	if due := claim(); len(due) != 0 {
		t.Fatalf("a disabled hook's delivery was claimed: %+v", due)
	}
	if err := db.DeleteWebhook(ctx, on.ID); err != nil {
		t.Fatal(err)
	}
	if ds, err := db.WebhookDeliveries(ctx, on.ID, 10); err != nil || len(ds) != 0 {
		t.Fatalf("a deleted hook's deliveries are left: %+v (%v)", ds, err)
	}
}
