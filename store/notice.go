package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/domain"
)

// Kinds of tenant notices, each sent once per tenant (the trial ones once
// per trial end: an extended trial gets them again).
const (
	NoticeReady         = "ready"
	NoticeExpiring3Days = "trial_expiring_3d"
	NoticeExpiring1Day  = "trial_expiring_1d"
	NoticeExpired       = "trial_expired"
)

// DueNotice is a notice a tenant has crossed the point of and not yet got.
type DueNotice struct {
	Kind   string
	Tenant Tenant
}

// noticeRules are the conditions of each notice at a time :now (:d1 and
// :d3 are one and three days later).
var noticeRules = []struct{ kind, where string }{
	{NoticeReady, `t.state = '` + domain.StateRunning + `'`},
	{NoticeExpiring3Days, `t.expires_at > :d1 AND t.expires_at <= :d3`},
	{NoticeExpiring1Day, `t.expires_at > :now AND t.expires_at <= :d1`},
	{NoticeExpired, `t.expires_at <= :now`},
}

// noticeKey is the trial end a notice is recorded under: none for "ready".
func noticeKey(kind string, t *Tenant) string {
	if kind == NoticeReady || t.ExpiresAt.IsZero() {
		return ""
	}
	return formatTime(t.ExpiresAt.Time)
}

// DueNotices returns the notices due at now, oldest tenants first, at most
// limit of each kind. Deleted tenants get none.
func (db *DB) DueNotices(ctx context.Context, now time.Time, limit int) ([]DueNotice, error) {
	args := map[string]any{"now": formatTime(now), "d1": formatTime(now.Add(24 * time.Hour)),
		"d3": formatTime(now.Add(72 * time.Hour)), "deleted": domain.DesiredDeleted, "limit": limit}
	var out []DueNotice
	for _, r := range noticeRules {
		args["kind"] = r.kind
		key := `COALESCE(t.expires_at, '')`
		if r.kind == NoticeReady {
			key = `''`
		}
		q := `SELECT ` + prefixed("t.", tenantColumns) + ` FROM tenants t
			WHERE t.desired_state <> :deleted AND ` + r.where + `
			AND NOT EXISTS (SELECT 1 FROM tenant_notices n WHERE n.tenant_id = t.id AND n.kind = :kind AND n.expires_at = ` + key + `)
			ORDER BY t.created_at LIMIT :limit`
		q, qargs, err := sqlx.Named(q, args)
		if err != nil {
			return nil, err
		}
		var ts []Tenant
		if err := db.r.SelectContext(ctx, &ts, db.r.Rebind(q), qargs...); err != nil {
			return nil, fmt.Errorf("due %s notices: %w", r.kind, err)
		}
		for _, t := range ts {
			out = append(out, DueNotice{Kind: r.kind, Tenant: t})
		}
	}
	return out, nil
}

// RecordNotice records that a tenant got a notice, and writes its mail (nil
// for none: the owner turned mail off) in the same transaction, so that a
// notice is mailed once whatever restarts. It reports false, writing
// nothing, when the notice was recorded already.
func (db *DB) RecordNotice(ctx context.Context, kind string, t *Tenant, m *OutboxMail) (bool, error) {
	var recorded bool
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO tenant_notices (tenant_id, kind, expires_at, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			t.ID, kind, noticeKey(kind, t), formatTime(db.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		recorded = true
		if m == nil {
			return nil
		}
		return db.enqueueMail(ctx, tx, m)
	})
	if err != nil {
		return false, fmt.Errorf("record %s notice: %w", kind, err)
	}
	return recorded, nil
}

// prefixed qualifies each column of a comma-separated list with p ("t.").
func prefixed(p, columns string) string {
	var out []string
	for _, c := range strings.Split(columns, ",") {
		out = append(out, p+strings.TrimSpace(c))
	}
	return strings.Join(out, ", ")
}
