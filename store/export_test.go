package store

import "github.com/jmoiron/sqlx"

// W and R hand the package's own tests the writer and the readers, to set
// up rows no method writes and to look into the schema; other packages go
// through the methods.
func (db *DB) W() *sqlx.DB { return db.w }

// R is the reader pool; see W.
func (db *DB) R() *sqlx.DB { return db.r }
