-- Invitations of prospects whose account a sales person created with a
-- demo: the link's token is kept as its sha256 only, used once.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX invites_user ON invites (user_id);
