-- A tenant's own sleep policy, set by an admin or a sales person; a row
-- only for tenants that differ from their environment. idle_seconds NULL
-- keeps the environment's idle timeout, 0 never stops the tenant; pause ''
-- keeps the environment's pause tier, 'on' or 'off' overrides it;
-- keep_warm lists the windows in which the tenant is kept running, like
-- "mon-fri 09:00-18:00 Europe/Paris".
CREATE TABLE tenant_policies (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    idle_seconds INTEGER CHECK (idle_seconds IS NULL OR idle_seconds >= 0),
    pause        TEXT NOT NULL DEFAULT '' CHECK (pause IN ('', 'on', 'off')),
    keep_warm    TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT ''
);
