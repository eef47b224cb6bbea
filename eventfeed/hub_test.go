package eventfeed_test

import (
	"context"
	"fmt"
	"testing"

	"appfactory/eventfeed"
	"appfactory/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A reader that never drains is dropped once its buffer is full; another
// reader gets every event in order, and the position Subscribe returns is
// the last event before the live ones.
func TestHubDropsAReaderThatFallsBehind(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if err := db.AddEvent(ctx, "t1", "state", "before"); err != nil {
		t.Fatal(err)
	}
	h := &eventfeed.Hub{Source: db, Buffer: 3}
	dropped := make(chan struct{})
	slow, _, err := h.Subscribe(ctx, nil, func() { close(dropped) })
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, pos, err := h.Subscribe(ctx, func(e store.FeedEvent) bool { return e.TenantID == "t1" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if last, _ := db.LastEventID(ctx); pos != last {
		t.Fatalf("Subscribe position %d, want the last event %d", pos, last)
	}
	for i := range 10 {
		if err := db.AddEvent(ctx, "t2", "state", "other tenant"); err != nil {
			t.Fatal(err)
		}
		if err := db.AddEvent(ctx, "t1", "state", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if ev := <-fast.C; ev.Message != fmt.Sprint(i) || ev.ID <= pos {
			t.Fatalf("event %d: %+v after %d", i, ev, pos)
		} else {
			pos = ev.ID
		}
	}
	<-dropped
	<-slow.Dropped
	h.Close()
	<-fast.Dropped
	if _, _, err := h.Subscribe(ctx, nil, nil); err != eventfeed.ErrClosed {
		t.Errorf("Subscribe after Close: %v", err)
	}
}
