-- What the reconciler needs beyond the initial schema.

-- The sleep tier: while desired_state is running, paused = 1 asks for the
-- tenant's containers to be frozen (docker pause) rather than stopped.
ALTER TABLE tenants ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;

-- The assembly a tenant was deployed from (components, custom components,
-- model), copied from its app at deploy time: editing the app afterwards
-- never changes what a rebuild of this tenant produces.
ALTER TABLE tenants ADD COLUMN assembly TEXT NOT NULL DEFAULT '{}';

-- Subnets in use, for the allocator; a cleaned-up tenant releases its own.
CREATE INDEX tenants_subnet ON tenants (subnet) WHERE subnet != '' AND state != 'deleted';

-- The generation a build was made for, so a tenant page shows the build of
-- its current generation.
ALTER TABLE builds ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
