package store_test

import (
	"context"
	"testing"

	"appfactory/store"
)

// openTest opens a real database file in a temporary directory.
func openTest(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenMigratesOnceAndSetsPragmas(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := db.R.Get(&applied, `SELECT COUNT(*) FROM schema_migrations`); err != nil || applied == 0 {
		t.Fatalf("schema_migrations: %d, %v", applied, err)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000"} {
		var got string
		if err := db.W.Get(&got, "PRAGMA "+pragma); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	id1, err := db.InstanceID(ctx)
	if err != nil || id1 == "" {
		t.Fatalf("instance id: %q %v", id1, err)
	}
	db.Close()
	db2, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	var again int
	db2.R.Get(&again, `SELECT COUNT(*) FROM schema_migrations`)
	if again != applied {
		t.Errorf("migrations applied twice: %d then %d", applied, again)
	}
	if id2, _ := db2.InstanceID(ctx); id2 != id1 {
		t.Errorf("instance id changed: %s then %s", id1, id2)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	db := openTest(t)
	if _, err := db.R.Exec(`INSERT INTO meta (key, value) VALUES ('x', 'y')`); err == nil {
		t.Fatal("write through the read pool succeeded")
	}
}
