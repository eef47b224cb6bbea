-- The whole data model of appfactory. Times are UTC, stored as RFC 3339 text
-- with nanoseconds (store.Time), so they sort as text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    company       TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'prospect' CHECK (role IN ('prospect', 'sales', 'admin')),
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX users_created ON users (created_at);

-- Server-side sessions: the cookie holds a random id, the row holds its
-- sha256 (id_hash), so a stolen database does not hand out live sessions.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    data         BLOB NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed sign-ins and sign-ups, for throttling (key is "acct:<email>" or "ip:<addr>" ...).
CREATE TABLE auth_attempts (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL,
    at   TEXT NOT NULL
);
CREATE INDEX auth_attempts_key_at ON auth_attempts (key, at);

-- Custom components uploaded by a user, content-addressed by sha256.
CREATE TABLE custom_components (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256      TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    filename    TEXT NOT NULL DEFAULT '',
    size        INTEGER NOT NULL,
    files       INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (owner_id, sha256)
);

-- An app is an assembly (application model). Lists are JSON text.
CREATE TABLE apps (
    id                TEXT PRIMARY KEY,
    owner_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'ready')),
    step              INTEGER NOT NULL DEFAULT 1,
    platform          TEXT NOT NULL DEFAULT '',
    version           TEXT NOT NULL DEFAULT '',
    components        TEXT NOT NULL DEFAULT '[]',
    custom_components TEXT NOT NULL DEFAULT '[]',
    model             TEXT NOT NULL DEFAULT '{}',
    environment       TEXT NOT NULL DEFAULT '',
    replicas          INTEGER NOT NULL DEFAULT 1,
    is_template       INTEGER NOT NULL DEFAULT 0,
    parent_id         TEXT,
    deploy_requested_at TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX apps_owner ON apps (owner_id, updated_at);
CREATE INDEX apps_template ON apps (is_template) WHERE is_template = 1;

-- A tenant is one deployment of an app. desired_state is written by users
-- and the passivator; state (actual) by the reconciler.
CREATE TABLE tenants (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES apps (id),
    owner_id       TEXT NOT NULL REFERENCES users (id),
    created_by     TEXT NOT NULL REFERENCES users (id),
    slug           TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL DEFAULT '',
    platform       TEXT NOT NULL,
    version        TEXT NOT NULL,
    environment    TEXT NOT NULL,
    replicas       INTEGER NOT NULL,
    image          TEXT NOT NULL DEFAULT '',
    subnet         TEXT NOT NULL DEFAULT '',
    desired_state  TEXT NOT NULL CHECK (desired_state IN ('running', 'passivated', 'deleted')),
    state          TEXT NOT NULL DEFAULT 'pending',
    state_message  TEXT NOT NULL DEFAULT '',
    generation     INTEGER NOT NULL DEFAULT 1,
    failures       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    expires_at     TEXT,
    last_active_at TEXT,
    deleted_at     TEXT
);
CREATE INDEX tenants_owner ON tenants (owner_id, created_at);
CREATE INDEX tenants_app ON tenants (app_id);
CREATE INDEX tenants_state ON tenants (state, created_at);
CREATE INDEX tenants_env ON tenants (environment, created_at);
CREATE INDEX tenants_platform ON tenants (platform, created_at);
CREATE INDEX tenants_created ON tenants (created_at);
CREATE INDEX tenants_desired ON tenants (desired_state);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_kind_at ON events (kind, at);

-- Build output kept for the app and tenant pages (last build per tenant).
CREATE TABLE builds (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    tag        TEXT NOT NULL,
    result     TEXT NOT NULL DEFAULT 'running',
    log        TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX builds_tenant ON builds (tenant_id, id);

-- CPU and memory samples per tenant, one row a minute, pruned after 24 h.
CREATE TABLE tenant_stats (
    tenant_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    cpu_percent REAL NOT NULL,
    mem_bytes   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, at)
);
CREATE INDEX tenant_stats_at ON tenant_stats (at);

-- Activations (passivated -> running on a request), for charts and p50.
CREATE TABLE activations (
    id        INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    seconds   REAL NOT NULL
);
CREATE INDEX activations_at ON activations (at);

-- Host-wide samples for the admin charts (running vs passivated over time).
CREATE TABLE host_samples (
    at         TEXT PRIMARY KEY,
    running    INTEGER NOT NULL,
    passivated INTEGER NOT NULL,
    total      INTEGER NOT NULL
);

-- Proxied requests per tenant per day, for the sales engagement view.
CREATE TABLE tenant_requests (
    tenant_id TEXT NOT NULL,
    day       TEXT NOT NULL,
    requests  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

-- Sign-ins per user per day, for the sales engagement view.
CREATE TABLE user_logins (
    id      INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at      TEXT NOT NULL
);
CREATE INDEX user_logins_user_at ON user_logins (user_id, at);
