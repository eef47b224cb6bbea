-- contentapp's schema, version 1. seq is the rowid alias that the full-text
-- index points at; id is the public identifier.
CREATE TABLE documents (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  doctype    TEXT NOT NULL,
  title      TEXT NOT NULL,
  fields     TEXT NOT NULL DEFAULT '{}',
  state      TEXT NOT NULL DEFAULT 'draft',
  version    INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX documents_created ON documents (created_at DESC, seq DESC);
CREATE INDEX documents_doctype ON documents (doctype, created_at DESC);

CREATE TABLE document_versions (
  document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  title       TEXT NOT NULL,
  fields      TEXT NOT NULL,
  state       TEXT NOT NULL,
  saved_at    TEXT NOT NULL,
  PRIMARY KEY (document_id, version)
);

CREATE TABLE comments (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  author      TEXT NOT NULL,
  body        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX comments_document ON comments (document_id, seq);

CREATE VIRTUAL TABLE documents_fts USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');
