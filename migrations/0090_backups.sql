-- Backups of a tenant's volumes. The archive itself lives under the data
-- directory, named by its checksum (backups/sha256/<hex>.tar.gz), so two
-- backups of the same data share one file; it is removed once no row
-- names it. platform and version are the tenant's when it was taken: a
-- backup is restored only into a tenant of the same platform.
CREATE TABLE backups (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    platform   TEXT NOT NULL,
    version    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('manual', 'scheduled', 'pre-upgrade')),
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX backups_tenant ON backups (tenant_id, created_at);
CREATE INDEX backups_sha256 ON backups (sha256);

-- A tenant's last upgrade, for its verification and rollback: pending
-- until the new version is ready (then verified), rolled-back when the
-- tenant went back to from_version and the data of backup_id.
CREATE TABLE upgrades (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id),
    from_version TEXT NOT NULL,
    to_version   TEXT NOT NULL,
    backup_id    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'rolled-back')),
    deadline     TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- A restore asked for and not done yet: the reconciler's next pass of the
-- tenant stops its replicas, puts the backup's data on its volumes, and
-- deletes the row (a pass cut short does it again, to the same result).
CREATE TABLE pending_restores (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    backup_id  TEXT NOT NULL REFERENCES backups (id),
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Scheduled backups per environment: one every backup_every_hours hours
-- (0: none), the newest backup_keep scheduled ones kept.
ALTER TABLE env_settings ADD COLUMN backup_every_hours INTEGER NOT NULL DEFAULT 0;
ALTER TABLE env_settings ADD COLUMN backup_keep INTEGER NOT NULL DEFAULT 7;
