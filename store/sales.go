package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// TemplateApps lists the apps marked as demo templates, by name.
func (db *DB) TemplateApps(ctx context.Context) ([]App, error) {
	apps := []App{}
	err := db.r.SelectContext(ctx, &apps, `SELECT `+appColumns+` FROM apps
		WHERE is_template = 1 AND deleted_at IS NULL ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("template apps: %w", err)
	}
	return apps, nil
}

// SetAppTemplate marks an app as a demo template, or unmarks it.
func (db *DB) SetAppTemplate(ctx context.Context, id string, template bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE apps SET is_template = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`,
		template, formatTime(db.Now()), id)
	if err != nil {
		return fmt.Errorf("mark template %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return NotFound(sql.ErrNoRows, "App")
	}
	return nil
}

// CopyTemplate copies a template into a ready app owned by ownerID, named
// name, remembering the template as its parent.
func (db *DB) CopyTemplate(ctx context.Context, tpl *App, ownerID, name string) (*App, error) {
	c := TemplateCopy(tpl, ownerID, name)
	if err := db.CreateApp(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Prospect is a prospect's engagement as the sales view lists it.
type Prospect struct {
	ID         string `db:"id"`
	Email      string `db:"email"`
	Name       string `db:"name"`
	Company    string `db:"company"`
	Disabled   bool   `db:"disabled"`
	CreatedAt  Time   `db:"created_at"`
	Apps       int    `db:"apps"`
	Tenants    int    `db:"tenants"`
	Logins     int    `db:"logins"`
	Requests   int    `db:"requests"`
	LastActive Time   `db:"last_active"`
	LastLogin  Time   `db:"last_login"`
	// Invited is true while the prospect has not set a password through
	// the invitation a sales person's demo gave them.
	Invited bool `db:"invited"`
}

// LastSeen is the later of the last request to a tenant and the last sign-in.
func (p *Prospect) LastSeen() time.Time {
	if p.LastActive.After(p.LastLogin.Time) {
		return p.LastActive.Time
	}
	return p.LastLogin.Time
}

// Prospect orders.
const (
	ProspectsEngaged = "engaged"
	ProspectsRecent  = "recent"
	ProspectsNew     = "new"
)

// ProspectQuery selects prospects for the sales view.
type ProspectQuery struct {
	// Search matches a substring of the email, name or company.
	Search string
	// Sort is ProspectsEngaged (requests, then sign-ins, in the window;
	// the default), ProspectsRecent (last seen) or ProspectsNew (sign-up).
	Sort string
	// Since starts the engagement window (sign-ins and requests counted).
	Since time.Time
	Limit int
}

// ListProspects returns prospects with their apps, tenants, sign-ins and
// requests since q.Since, and when they were last seen.
func (db *DB) ListProspects(ctx context.Context, q ProspectQuery) ([]Prospect, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	order := map[string]string{
		ProspectsRecent: "MAX(COALESCE(last_active, ''), COALESCE(last_login, '')) DESC, created_at DESC",
		ProspectsNew:    "created_at DESC",
	}[q.Sort]
	if order == "" {
		order = "requests DESC, logins DESC, MAX(COALESCE(last_active, ''), COALESCE(last_login, '')) DESC, created_at DESC"
	}
	since := formatTime(q.Since)
	args := []any{since, q.Since.UTC().Format(time.DateOnly)}
	where := "u.role = 'prospect'"
	if s := strings.TrimSpace(q.Search); s != "" {
		like := "%" + escapeLike(s) + "%"
		where += ` AND (u.email LIKE ? ESCAPE '\' OR u.name LIKE ? ESCAPE '\' OR u.company LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	args = append(args, q.Limit)
	var out []Prospect
	err := db.r.SelectContext(ctx, &out, `SELECT * FROM (
		SELECT u.id, u.email, u.name, u.company, u.disabled, u.created_at,
			(SELECT COUNT(*) FROM apps a WHERE a.owner_id = u.id AND a.deleted_at IS NULL) AS apps,
			(SELECT COUNT(*) FROM tenants t WHERE t.owner_id = u.id AND t.state <> 'deleted') AS tenants,
			(SELECT COUNT(*) FROM user_logins l WHERE l.user_id = u.id AND l.at >= ?1) AS logins,
			(SELECT COALESCE(SUM(r.requests), 0) FROM tenants t JOIN tenant_requests r ON r.tenant_id = t.id
				WHERE t.owner_id = u.id AND r.day >= ?2) AS requests,
			(SELECT MAX(t.last_active_at) FROM tenants t WHERE t.owner_id = u.id) AS last_active,
			(SELECT MAX(l.at) FROM user_logins l WHERE l.user_id = u.id) AS last_login,
			EXISTS (SELECT 1 FROM invites i WHERE i.user_id = u.id AND i.used_at IS NULL) AS invited
		FROM users u WHERE `+where+`
	) ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list prospects: %w", err)
	}
	return out, nil
}

// ProspectTenants lists the live tenants of some owners, newest first.
func (db *DB) ProspectTenants(ctx context.Context, ownerIDs []string) ([]TenantRow, error) {
	if len(ownerIDs) == 0 {
		return nil, nil
	}
	query, args, err := sqlx.In(`SELECT t.id, t.slug, t.title, t.app_id, a.name AS app_name, t.owner_id, u.email AS owner_email,
		t.platform, t.version, t.environment, t.replicas, t.state, t.desired_state, t.created_at, t.last_active_at, t.expires_at
		`+tenantRowsFrom+` WHERE t.owner_id IN (?) AND t.state <> 'deleted' ORDER BY t.created_at DESC`, ownerIDs)
	if err != nil {
		return nil, err
	}
	var out []TenantRow
	if err := db.r.SelectContext(ctx, &out, db.r.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("prospect tenants: %w", err)
	}
	return out, nil
}
