package content

import (
	"strings"
	"time"

	"appfactory/apperr"
)

// Document is one stored document.
type Document struct {
	ID        string         `json:"id"`
	Doctype   string         `json:"doctype"`
	Title     string         `json:"title"`
	Fields    map[string]any `json:"fields"`
	State     string         `json:"state"`
	Version   int            `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// DocumentInput is the body of a create or update request. Version, when
// set on an update, must match the stored version (optimistic locking).
type DocumentInput struct {
	Doctype string         `json:"doctype"`
	Title   string         `json:"title"`
	Fields  map[string]any `json:"fields"`
	Version int            `json:"version,omitempty"`
}

// DocumentList is a page of documents with the total count and, for an
// unfiltered list, the count of each document type.
type DocumentList struct {
	Documents []Document     `json:"documents"`
	Total     int            `json:"total"`
	ByDoctype map[string]int `json:"by_doctype,omitempty"`
}

// Version is a former state of a document, kept by the versioning component.
type Version struct {
	Version int            `json:"version"`
	Title   string         `json:"title"`
	Fields  map[string]any `json:"fields"`
	State   string         `json:"state"`
	SavedAt time.Time      `json:"saved_at"`
}

// Comment is a comment on a document.
type Comment struct {
	ID         string    `json:"id"`
	DocumentID string    `json:"document_id"`
	Author     string    `json:"author"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// CommentInput is the body of a new comment.
type CommentInput struct {
	Author string `json:"author"`
	Body   string `json:"body"`
}

// maxAuthor bounds the author name of a comment.
const maxAuthor = 100

// Check trims and validates a comment; an empty author becomes "anonymous".
func (c CommentInput) Check() (CommentInput, error) {
	c.Author = strings.TrimSpace(c.Author)
	c.Body = strings.TrimSpace(c.Body)
	if c.Author == "" {
		c.Author = "anonymous"
	}
	if len(c.Author) > maxAuthor {
		return c, apperr.FieldError(apperr.Unprocessable, "author", "The author name is longer than %d characters.", maxAuthor)
	}
	if c.Body == "" {
		return c, apperr.FieldError(apperr.Unprocessable, "body", "A comment needs some text.")
	}
	if len(c.Body) > MaxText {
		return c, apperr.FieldError(apperr.Unprocessable, "body", "A comment is at most %d characters.", MaxText)
	}
	return c, nil
}
