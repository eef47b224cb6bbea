package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// W and R hand the package's own tests the writer and the readers, to set
// up rows no method writes and to look into the schema; other packages go
// through the methods.
func (db *DB) W() *sqlx.DB { return db.w }

// R is the reader pool; see W.
func (db *DB) R() *sqlx.DB { return db.r }

// Tx runs fn in a write transaction, for seeding many rows at once.
func (db *DB) Tx(ctx context.Context, fn func(tx *sqlx.Tx) error) error { return db.inTx(ctx, fn) }

// TenantPageSQL and TenantCountSQL are the queries behind ListTenantRows,
// for EXPLAIN.
func (q TenantQuery) TenantPageSQL() (string, []any) { return q.pageSQL() }

// TenantCountSQL is the count query; see TenantPageSQL.
func (q TenantQuery) TenantCountSQL() (string, []any) { return q.countSQL() }
