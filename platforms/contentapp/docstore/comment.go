package docstore

import (
	"context"
	"database/sql"
	"fmt"

	"appfactory/platforms/contentapp/content"
)

// AddComment stores a checked comment on a document.
func (db *DB) AddComment(ctx context.Context, docID string, in content.CommentInput) (content.Comment, error) {
	c := content.Comment{ID: newID(), DocumentID: docID, Author: in.Author, Body: in.Body, CreatedAt: db.Now().UTC()}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM documents WHERE id = ?`, docID).Scan(&one); err != nil {
			return notFound(err, "Document")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO comments (id, document_id, author, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, docID, c.Author, c.Body, fmtTime(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		return nil
	})
	c.CreatedAt = parseTime(fmtTime(c.CreatedAt))
	return c, err
}

// Comments returns the comments of a document, oldest first.
func (db *DB) Comments(ctx context.Context, docID string) ([]content.Comment, error) {
	if _, err := db.Document(ctx, docID); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, document_id, author, body, created_at FROM comments WHERE document_id = ? ORDER BY seq`, docID)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	defer rows.Close()
	out := []content.Comment{}
	for rows.Next() {
		var c content.Comment
		var created string
		if err := rows.Scan(&c.ID, &c.DocumentID, &c.Author, &c.Body, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = parseTime(created)
		out = append(out, c)
	}
	return out, rows.Err()
}
