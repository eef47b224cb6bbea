package docstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
)

const docColumns = `seq, id, doctype, title, fields, state, version, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

// scanDocument reads a row of docColumns and returns the document and its seq.
func scanDocument(s scanner) (content.Document, int64, error) {
	var d content.Document
	var seq int64
	var fields, created, updated string
	if err := s.Scan(&seq, &d.ID, &d.Doctype, &d.Title, &fields, &d.State, &d.Version, &created, &updated); err != nil {
		return d, 0, err
	}
	if err := json.Unmarshal([]byte(fields), &d.Fields); err != nil {
		return d, 0, fmt.Errorf("document %s fields: %w", d.ID, err)
	}
	if d.Fields == nil {
		d.Fields = map[string]any{}
	}
	d.CreatedAt, d.UpdatedAt = parseTime(created), parseTime(updated)
	return d, seq, nil
}

func encodeFields(f map[string]any) (string, error) {
	if f == nil {
		f = map[string]any{}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("encode fields: %w", err)
	}
	return string(b), nil
}

// CreateDocument stores a new draft document. Title and fields must have
// been checked against the model already.
func (db *DB) CreateDocument(ctx context.Context, doctype, title string, fields map[string]any) (content.Document, error) {
	fj, err := encodeFields(fields)
	if err != nil {
		return content.Document{}, err
	}
	now := fmtTime(db.Now())
	id := newID()
	err = db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO documents (id, doctype, title, fields, state, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
			id, doctype, title, fj, content.Draft, now, now)
		if err != nil {
			return fmt.Errorf("insert document: %w", err)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return index(ctx, tx, seq, doctype, title, fields, false)
	})
	if err != nil {
		return content.Document{}, err
	}
	return db.Document(ctx, id)
}

// Document returns the document with the given id.
func (db *DB) Document(ctx context.Context, id string) (content.Document, error) {
	d, _, err := scanDocument(db.r.QueryRowContext(ctx, `SELECT `+docColumns+` FROM documents WHERE id = ?`, id))
	return d, notFound(err, "Document")
}

// Documents lists documents newest first, of one doctype when doctype is
// set, with the total count of the matching documents.
func (db *DB) Documents(ctx context.Context, doctype string, limit int) (content.DocumentList, error) {
	list := content.DocumentList{Documents: []content.Document{}}
	where, args := ``, []any{}
	if doctype != "" {
		where, args = ` WHERE doctype = ?`, append(args, doctype)
	}
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents`+where, args...).Scan(&list.Total); err != nil {
		return list, fmt.Errorf("count documents: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+docColumns+` FROM documents`+where+` ORDER BY created_at DESC, seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return list, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, _, err := scanDocument(rows)
		if err != nil {
			return list, err
		}
		list.Documents = append(list.Documents, d)
	}
	return list, rows.Err()
}

// CountByDoctype returns how many documents each doctype holds.
func (db *DB) CountByDoctype(ctx context.Context) (map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT doctype, COUNT(*) FROM documents GROUP BY doctype`)
	if err != nil {
		return nil, fmt.Errorf("count by doctype: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var dt string
		var n int
		if err := rows.Scan(&dt, &n); err != nil {
			return nil, err
		}
		out[dt] = n
	}
	return out, rows.Err()
}

// UpdateDocument replaces a document's title and fields. When expect is
// not zero it must equal the stored version, so that two editors cannot
// silently overwrite each other. keep stores the previous state as a
// version first (the versioning component).
func (db *DB) UpdateDocument(ctx context.Context, id, title string, fields map[string]any, expect int, keep bool) (content.Document, error) {
	fj, err := encodeFields(fields)
	if err != nil {
		return content.Document{}, err
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		cur, seq, err := scanDocument(tx.QueryRowContext(ctx, `SELECT `+docColumns+` FROM documents WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "Document")
		}
		if expect != 0 && expect != cur.Version {
			return apperr.New(apperr.Conflict, "The document changed since version %d (now %d): reload it and try again.", expect, cur.Version)
		}
		now := fmtTime(db.Now())
		if keep {
			old, err := encodeFields(cur.Fields)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO document_versions (document_id, version, title, fields, state, saved_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, cur.Version, cur.Title, old, cur.State, now); err != nil {
				return fmt.Errorf("keep version: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET title = ?, fields = ?, version = version + 1, updated_at = ? WHERE seq = ?`,
			title, fj, now, seq); err != nil {
			return fmt.Errorf("update document: %w", err)
		}
		return index(ctx, tx, seq, cur.Doctype, title, fields, true)
	})
	if err != nil {
		return content.Document{}, err
	}
	return db.Document(ctx, id)
}

// Versions returns the kept versions of a document, newest first.
func (db *DB) Versions(ctx context.Context, id string) ([]content.Version, error) {
	if _, err := db.Document(ctx, id); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT version, title, fields, state, saved_at FROM document_versions WHERE document_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	out := []content.Version{}
	for rows.Next() {
		var v content.Version
		var fields, saved string
		if err := rows.Scan(&v.Version, &v.Title, &fields, &v.State, &saved); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &v.Fields); err != nil {
			return nil, fmt.Errorf("version %d fields: %w", v.Version, err)
		}
		v.SavedAt = parseTime(saved)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Transition moves a document to another workflow state.
func (db *DB) Transition(ctx context.Context, id, to string) (content.Document, error) {
	if !content.KnownState(to) {
		return content.Document{}, apperr.FieldError(apperr.Unprocessable, "to", "Unknown state %q.", to)
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var from string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM documents WHERE id = ?`, id).Scan(&from); err != nil {
			return notFound(err, "Document")
		}
		if !content.CanTransition(from, to) {
			return apperr.New(apperr.Conflict, "A document in state %s cannot move to %s.", from, to)
		}
		_, err := tx.ExecContext(ctx, `UPDATE documents SET state = ?, updated_at = ? WHERE id = ?`, to, fmtTime(db.Now()), id)
		return err
	})
	if err != nil {
		return content.Document{}, err
	}
	return db.Document(ctx, id)
}
