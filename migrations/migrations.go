// Package migrations holds the numbered SQL files of appfactory's schema,
// embedded into the binary and applied in order by store.Open.
package migrations

import "embed"

// FS holds every NNNN_name.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
