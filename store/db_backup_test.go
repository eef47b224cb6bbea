package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"appfactory/store"
)

// A backup taken while another goroutine writes is a database that opens,
// holds every row written before it began, and leaves the writer unharmed.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := &store.User{Email: "kept@example.com", Name: "Kept", PasswordHash: "x", Role: store.RoleAdmin}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	const before = 200
	for i := range before {
		if err := db.AddEvent(ctx, "t1", "state", "before "+string(rune('a'+i%26))); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	written := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.AddEvent(ctx, "t1", "state", "during"); err != nil {
				writeErr = err
				return
			}
			written++
		}
	}()
	dir := t.TempDir()
	path := filepath.Join(dir, "appfactory.db")
	if err := db.BackupTo(ctx, path); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("the writer failed during the backup: %v", writeErr)
	}
	if err := db.BackupTo(ctx, path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup over the first: %v", err)
	}
	cp, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer cp.Close()
	if got, err := cp.UserByEmail(ctx, "kept@example.com"); err != nil || got.ID != u.ID {
		t.Fatalf("the copy's user: %+v %v", got, err)
	}
	evs, err := cp.ListEvents(ctx, "t1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := db.LastEventID(ctx)
	if len(evs) < before || int64(len(evs)) > last {
		t.Fatalf("the copy holds %d events; %d were written before the backup, %d in all", len(evs), before, last)
	}
	t.Logf("events written during the backup: %d; in the copy: %d", written, len(evs))
}
