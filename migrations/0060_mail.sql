-- Mail: a durable outbox the sending loop claims rows from (a claim is a
-- lease: a sender that died mid-send leaves a row that is claimed again
-- once claimed_until has passed), single-use account tokens (email
-- verification, password reset) kept as sha256 only, the notices already
-- sent per tenant (so restarts never send one twice), and per-user mail
-- settings.
CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    user_id       TEXT NOT NULL DEFAULT '',
    to_addr       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    html_body     TEXT NOT NULL,
    unsubscribe   TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    next_at       TEXT NOT NULL,
    claimed_until TEXT,
    claim         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    sent_at       TEXT,
    failed_at     TEXT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- expires_at is the trial end a notice was about ('' for "ready"): a trial
-- extended past it crosses the points again and gets new notices.
CREATE TABLE tenant_notices (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    expires_at TEXT NOT NULL DEFAULT '',
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, expires_at)
);

ALTER TABLE users ADD COLUMN email_verified_at TEXT;
ALTER TABLE users ADD COLUMN mail_opt_out INTEGER NOT NULL DEFAULT 0;

-- Accounts made before verification existed are taken as verified, and
-- tenants that exist now get no "ready" or "expired" mail for the past.
UPDATE users SET email_verified_at = created_at;
INSERT INTO tenant_notices (tenant_id, kind, sent_at) SELECT id, 'ready', updated_at FROM tenants;
INSERT INTO tenant_notices (tenant_id, kind, expires_at, sent_at) SELECT id, 'trial_expired', expires_at, updated_at FROM tenants
    WHERE expires_at IS NOT NULL AND expires_at <> '' AND expires_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
