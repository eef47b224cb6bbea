-- Per-environment settings an admin can change at run time, beside the
-- catalog's fixed values. pause_enabled turns the pause tier of sleep (docker
-- pause after a short idle time) on or off for every tenant of the
-- environment; an environment without a row keeps the tier on.
CREATE TABLE env_settings (
    environment   TEXT PRIMARY KEY,
    pause_enabled INTEGER NOT NULL DEFAULT 1,
    updated_at    TEXT NOT NULL
);

-- The passivator reads trial expiries every few seconds.
CREATE INDEX tenants_expires ON tenants (expires_at) WHERE expires_at IS NOT NULL;
