-- Monitoring and dashboards: the admin tenant table sorts by last activity
-- and counts tenants active in the last minutes; the sales view sums
-- requests and sign-ins of the last days over every prospect.
CREATE INDEX tenants_last_active ON tenants (last_active_at);
CREATE INDEX tenant_requests_day ON tenant_requests (day, tenant_id, requests);
CREATE INDEX users_role ON users (role, created_at);
