-- Webhooks for sales tools: the URLs an admin registered with the events
-- they receive, and the durable queue of deliveries that the dispatcher
-- works through (claimed with a lease, retried with backoff).
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- events is a JSON array of event names, like ["signup","tenant.deployed"].
    events      TEXT NOT NULL DEFAULT '[]',
    -- secret signs every delivery (HMAC-SHA256); it is shown once.
    secret      TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- state is pending (due at next_attempt_at), delivered or failed.
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_attempt_at TEXT,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_body       TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    redelivery_of   TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);

-- The first time a tenant ran and served a request, each announced once.
ALTER TABLE tenants ADD COLUMN deployed_at TEXT;
ALTER TABLE tenants ADD COLUMN first_active_at TEXT;
UPDATE tenants SET deployed_at = created_at
    WHERE state IN ('running', 'paused', 'passivating', 'passivated', 'activating', 'expired');
UPDATE tenants SET first_active_at = last_active_at WHERE last_active_at IS NOT NULL AND last_active_at != '';
