package store_test

import (
	"context"
	"os"
	"path/filepath"
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
	if err := db.R().Get(&applied, `SELECT COUNT(*) FROM schema_migrations`); err != nil || applied == 0 {
		t.Fatalf("schema_migrations: %d, %v", applied, err)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000"} {
		var got string
		if err := db.W().Get(&got, "PRAGMA "+pragma); err != nil || got != want {
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
	db2.R().Get(&again, `SELECT COUNT(*) FROM schema_migrations`)
	if again != applied {
		t.Errorf("migrations applied twice: %d then %d", applied, again)
	}
	if id2, _ := db2.InstanceID(ctx); id2 != id1 {
		t.Errorf("instance id changed: %s then %s", id1, id2)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	db := openTest(t)
	if _, err := db.R().Exec(`INSERT INTO meta (key, value) VALUES ('x', 'y')`); err == nil {
		t.Fatal("write through the read pool succeeded")
	}
}

// TestOpenInAnyDirectory: the database lands in the data directory whatever
// characters its name holds, including those a SQLite URI gives a meaning.
func TestOpenInAnyDirectory(t *testing.T) {
	for _, name := range []string{"plain", "with space", "what?ever", "hash#tag", "per%20cent", "quote's"} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, name)
			db, err := store.Open(context.Background(), dir)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer db.Close()
			if _, err := db.W().Exec(`INSERT INTO meta (key, value) VALUES ('probe', 'x')`); err != nil {
				t.Fatal(err)
			}
			var v string
			if err := db.R().Get(&v, `SELECT value FROM meta WHERE key = 'probe'`); err != nil || v != "x" {
				t.Fatalf("the readers do not see the writer's database: %q %v", v, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "appfactory.db")); err != nil {
				t.Errorf("no database in the data directory: %v", err)
			}
			entries, _ := os.ReadDir(parent)
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("files beside the data directory: %v", names)
			}
		})
	}
}
