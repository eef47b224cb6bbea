package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
)

// BackupTo writes a consistent copy of the database to path with VACUUM
// INTO: one read transaction on the live database, so writers go on while
// it runs (WAL) and the copy is a snapshot of one moment, compacted. It
// refuses a path that exists (SQLite would too, unless the file is empty).
func (db *DB) BackupTo(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("backup: %s already exists: choose a new file name", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
		return fmt.Errorf("backup: no directory %s", filepath.Dir(abs))
	}
	// Its own connection: the readers are query-only, which forbids
	// writing the copy, and the writer's one connection is the portal's.
	conn, err := sqlx.Open("sqlite", "file:"+uriPath(db.Path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", db.Path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		os.Remove(abs) // a partial copy is no backup
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
