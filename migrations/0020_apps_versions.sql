-- Apps edited into a new version keep their lineage (parent_id) and count
-- revisions; an app that tenants have referenced is hidden rather than
-- deleted, so those tenants keep their app. Uploaded bundles remember their
-- archive format, which names the stored file.
ALTER TABLE apps ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE apps ADD COLUMN deleted_at TEXT;
CREATE INDEX apps_owner_status ON apps (owner_id, status, updated_at);
ALTER TABLE custom_components ADD COLUMN format TEXT NOT NULL DEFAULT 'tar.gz';
CREATE INDEX custom_components_owner ON custom_components (owner_id, created_at);
