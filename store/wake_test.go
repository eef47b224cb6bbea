package store_test

import (
	"context"
	"testing"
	"time"
)

func TestTenantWakeFacts(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if f, err := db.TenantWakeFacts(ctx, "t1"); err != nil || f.ColdStarts != 0 || f.LastWokenBy != "" || !f.LastWokenAt.IsZero() {
		t.Fatalf("no activation yet: %+v, %v", f, err)
	}
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i, by := range []string{"a browser: GET / (Mozilla/5.0)", "a client: GET /api/docs (curl/8.5)"} {
		if err := db.RecordActivation(ctx, "t1", at.Add(time.Duration(i)*time.Minute), 400*time.Millisecond, by); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordActivation(ctx, "t2", at.Add(time.Hour), time.Second, "someone else"); err != nil {
		t.Fatal(err)
	}
	f, err := db.TenantWakeFacts(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if f.ColdStarts != 2 || f.LastWokenBy != "a client: GET /api/docs (curl/8.5)" || !f.LastWokenAt.Equal(at.Add(time.Minute)) {
		t.Errorf("facts %+v", f)
	}
}
