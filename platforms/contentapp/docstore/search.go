package docstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"appfactory/platforms/contentapp/content"
)

// maxTerms bounds the terms of one search, keeping queries cheap.
const maxTerms = 8

// index (re)writes the full-text row of a document in tx.
func index(ctx context.Context, tx *sql.Tx, seq int64, doctype, title string, fields map[string]any, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents_fts WHERE rowid = ?`, seq); err != nil {
			return fmt.Errorf("unindex: %w", err)
		}
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var body strings.Builder
	body.WriteString(doctype)
	for _, k := range names {
		fmt.Fprintf(&body, "\n%v", fields[k])
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)`, seq, title, body.String()); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// ftsQuery turns user input into an FTS5 query: each run of letters and
// digits becomes a quoted prefix term, all of them required. Nothing of the
// FTS5 syntax in the input survives, so no input can make the query fail.
func ftsQuery(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxTerms {
		words = words[:maxTerms]
	}
	for i, w := range words {
		words[i] = `"` + w + `"*`
	}
	return strings.Join(words, " ")
}

// Search returns documents matching every word of q, best match first.
func (db *DB) Search(ctx context.Context, q string, limit int) ([]content.Document, error) {
	out := []content.Document{}
	fq := ftsQuery(q)
	if fq == "" {
		return out, nil
	}
	rows, err := db.r.QueryContext(ctx, `SELECT d.seq, d.id, d.doctype, d.title, d.fields, d.state, d.version, d.created_at, d.updated_at
		FROM documents_fts f JOIN documents d ON d.seq = f.rowid
		WHERE documents_fts MATCH ? ORDER BY f.rank LIMIT ?`, fq, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, _, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
