package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"appfactory/store"
)

const dbUsage = "usage: appfactory db backup [--data-dir D] FILE"

// cmdDB runs `appfactory db backup FILE`: a copy of the portal's own
// database, safe to take while the portal serves.
func cmdDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "backup" {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintln(stdout, dbUsage)
			return nil
		}
		return errors.New(dbUsage)
	}
	fs := newFlagSet("db backup", stderr)
	dataDir := fs.String("data-dir", "./data", "data directory of the database")
	var words []string
	rest := args[1:]
	for {
		if err := parseWithEnv(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words, rest = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	if len(words) != 1 {
		return errors.New(dbUsage)
	}
	if _, err := os.Stat(filepath.Join(*dataDir, "appfactory.db")); err != nil {
		return fmt.Errorf("db backup: no database in %s (set --data-dir)", *dataDir)
	}
	db, err := store.Open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.BackupTo(ctx, words[0]); err != nil {
		return err
	}
	st, err := os.Stat(words[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", db.Path, words[0], st.Size())
	return nil
}
