package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TenantRow is one line of the admin tenant table: the tenant with its app's
// name and its owner's email.
type TenantRow struct {
	ID           string `db:"id"`
	Slug         string `db:"slug"`
	Title        string `db:"title"`
	AppID        string `db:"app_id"`
	AppName      string `db:"app_name"`
	OwnerID      string `db:"owner_id"`
	OwnerEmail   string `db:"owner_email"`
	Platform     string `db:"platform"`
	Version      string `db:"version"`
	Environment  string `db:"environment"`
	Replicas     int    `db:"replicas"`
	State        string `db:"state"`
	DesiredState string `db:"desired_state"`
	CreatedAt    Time   `db:"created_at"`
	LastActiveAt Time   `db:"last_active_at"`
	ExpiresAt    Time   `db:"expires_at"`
}

// Sort keys of the tenant table.
const (
	SortCreated    = "created"
	SortSlug       = "slug"
	SortState      = "state"
	SortLastActive = "active"
)

// TenantQuery selects a page of the tenant table. Empty fields do not filter.
type TenantQuery struct {
	// Search matches a substring of the slug, the app's name or the owner's email.
	Search      string
	State       string
	Environment string
	Platform    string
	// Owner is the owner's email, exactly.
	Owner string
	// Sort is one of the Sort* keys (default SortCreated); Asc reverses the
	// default descending order.
	Sort   string
	Asc    bool
	Limit  int
	Offset int
}

// sortColumns maps sort keys to ORDER BY terms; each ends with the id so
// that pages are stable, and each has an index in front of it.
var sortColumns = map[string]string{
	SortCreated:    "t.created_at %[1]s, t.id %[1]s",
	SortSlug:       "t.slug %[1]s",
	SortState:      "t.state %[1]s, t.created_at %[1]s, t.id %[1]s",
	SortLastActive: "t.last_active_at %[1]s, t.id %[1]s",
}

// Normalize applies defaults and bounds: a known sort key, 1..200 rows.
func (q TenantQuery) Normalize() TenantQuery {
	if _, ok := sortColumns[q.Sort]; !ok {
		q.Sort = SortCreated
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 200)
	q.Offset = max(q.Offset, 0)
	q.Search = strings.TrimSpace(q.Search)
	q.Owner = strings.ToLower(strings.TrimSpace(q.Owner))
	return q
}

// where builds the filter of a tenant query. Deleted tenants are left out
// unless asked for by state.
func (q TenantQuery) where() (string, []any) {
	var conds []string
	var args []any
	if q.State != "" {
		conds = append(conds, "t.state = ?")
		args = append(args, q.State)
	} else {
		conds = append(conds, "t.state <> 'deleted'")
	}
	if q.Environment != "" {
		conds = append(conds, "t.environment = ?")
		args = append(args, q.Environment)
	}
	if q.Platform != "" {
		conds = append(conds, "t.platform = ?")
		args = append(args, q.Platform)
	}
	if q.Owner != "" {
		// A subquery on the unique email index keeps tenants_owner usable.
		conds = append(conds, "t.owner_id = (SELECT id FROM users WHERE email = ?)")
		args = append(args, q.Owner)
	}
	if q.Search != "" {
		// LIKE ignores ASCII case in SQLite.
		like := "%" + escapeLike(q.Search) + "%"
		conds = append(conds, `(t.slug LIKE ? ESCAPE '\' OR a.name LIKE ? ESCAPE '\' OR t.title LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, like)
	}
	return strings.Join(conds, " AND "), args
}

// tenantRowsFrom is the FROM clause shared by the page and its count.
const tenantRowsFrom = `FROM tenants t JOIN apps a ON a.id = t.app_id JOIN users u ON u.id = t.owner_id`

// pageSQL returns the page query of a tenant query and its arguments.
func (q TenantQuery) pageSQL() (string, []any) {
	q = q.Normalize()
	where, args := q.where()
	dir := "DESC"
	if q.Asc {
		dir = "ASC"
	}
	order := fmt.Sprintf(sortColumns[q.Sort], dir)
	query := `SELECT t.id, t.slug, t.title, t.app_id, a.name AS app_name, t.owner_id, u.email AS owner_email,
		t.platform, t.version, t.environment, t.replicas, t.state, t.desired_state, t.created_at,
		t.last_active_at, t.expires_at ` + tenantRowsFrom + ` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	return query, append(args, q.Limit, q.Offset)
}

// countSQL returns the count query of a tenant query and its arguments.
func (q TenantQuery) countSQL() (string, []any) {
	q = q.Normalize()
	where, args := q.where()
	from := `FROM tenants t`
	if q.Search != "" {
		from = tenantRowsFrom
	}
	return `SELECT COUNT(*) ` + from + ` WHERE ` + where, args
}

// ListTenantRows returns a page of the tenant table and how many rows match in all.
func (db *DB) ListTenantRows(ctx context.Context, q TenantQuery) ([]TenantRow, int, error) {
	query, args := q.pageSQL()
	var rows []TenantRow
	if err := db.r.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, 0, fmt.Errorf("list tenant rows: %w", err)
	}
	var total int
	cq, cargs := q.countSQL()
	if err := db.r.GetContext(ctx, &total, cq, cargs...); err != nil {
		return nil, 0, fmt.Errorf("count tenant rows: %w", err)
	}
	return rows, total, nil
}

// TenantStateCounts counts the tenants in each actual state, deleted ones included.
func (db *DB) TenantStateCounts(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := db.r.SelectContext(ctx, &rows, `SELECT state, COUNT(*) AS n FROM tenants GROUP BY state`); err != nil {
		return nil, fmt.Errorf("count tenants by state: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// ActiveTenantIDs returns the tenants not deleted whose last request came
// at or after since.
func (db *DB) ActiveTenantIDs(ctx context.Context, since time.Time) ([]string, error) {
	var ids []string
	err := db.r.SelectContext(ctx, &ids, `SELECT id FROM tenants WHERE last_active_at >= ? AND state <> 'deleted'`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("active tenants: %w", err)
	}
	return ids, nil
}

// EnvironmentLoad is how many tenants of an environment run, and their replicas.
type EnvironmentLoad struct {
	Environment string `db:"environment"`
	Tenants     int    `db:"tenants"`
	Replicas    int    `db:"replicas"`
}

// RunningByEnvironment sums the running (and paused) tenants per environment.
func (db *DB) RunningByEnvironment(ctx context.Context) ([]EnvironmentLoad, error) {
	var out []EnvironmentLoad
	err := db.r.SelectContext(ctx, &out, `SELECT environment, COUNT(*) AS tenants, COALESCE(SUM(replicas), 0) AS replicas
		FROM tenants WHERE state IN ('running', 'paused') GROUP BY environment ORDER BY environment`)
	if err != nil {
		return nil, fmt.Errorf("running tenants by environment: %w", err)
	}
	return out, nil
}

// TenantFilterOptions are the distinct environments and platforms of the
// tenants, for the table's filter menus.
type TenantFilterOptions struct {
	Environments []string
	Platforms    []string
}

// ListTenantFilterOptions reads the distinct environments and platforms
// (each from its own index).
func (db *DB) ListTenantFilterOptions(ctx context.Context) (TenantFilterOptions, error) {
	var o TenantFilterOptions
	if err := db.r.SelectContext(ctx, &o.Environments, `SELECT DISTINCT environment FROM tenants ORDER BY environment`); err != nil {
		return o, fmt.Errorf("tenant environments: %w", err)
	}
	if err := db.r.SelectContext(ctx, &o.Platforms, `SELECT DISTINCT platform FROM tenants ORDER BY platform`); err != nil {
		return o, fmt.Errorf("tenant platforms: %w", err)
	}
	return o, nil
}

// RunningTenantEnvironments maps each tenant that may have running
// containers (neither passivated nor gone) to its environment.
func (db *DB) RunningTenantEnvironments(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		ID  string `db:"id"`
		Env string `db:"environment"`
	}
	err := db.r.SelectContext(ctx, &rows, `SELECT id, environment FROM tenants
		WHERE state NOT IN ('passivated', 'deleted', 'expired', 'failed', 'pending', 'building')`)
	if err != nil {
		return nil, fmt.Errorf("running tenants: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Env
	}
	return out, nil
}
