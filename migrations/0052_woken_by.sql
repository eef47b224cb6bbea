-- What woke a tenant, per activation: "a browser: GET /docs (Firefox)",
-- so that nobody has to guess why a tenant is awake.
ALTER TABLE activations ADD COLUMN woken_by TEXT NOT NULL DEFAULT '';
CREATE INDEX activations_tenant ON activations (tenant_id, at);
