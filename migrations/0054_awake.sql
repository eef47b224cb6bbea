-- Why is a tenant awake: its latest real request in words ("a browser:
-- GET /docs (Firefox)"), and per day how long it was awake (running, not
-- paused) and how much of that without use (no request for a minute).
ALTER TABLE tenants ADD COLUMN last_request TEXT NOT NULL DEFAULT '';
CREATE TABLE tenant_awake (
    tenant_id      TEXT NOT NULL,
    day            TEXT NOT NULL,
    awake_seconds  REAL NOT NULL DEFAULT 0,
    unused_seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);
