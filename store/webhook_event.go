package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// WebhookEnvelope is the JSON body of every delivery.
type WebhookEnvelope struct {
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// WebhookUser is a person as an event tells of them.
type WebhookUser struct {
	ID      string `json:"id" db:"id"`
	Email   string `json:"email" db:"email"`
	Name    string `json:"name" db:"name"`
	Company string `json:"company" db:"company"`
	Role    string `json:"role" db:"role"`
}

// WebhookTenant is a deployment as an event tells of it.
type WebhookTenant struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Title       string     `json:"title"`
	Platform    string     `json:"platform"`
	Version     string     `json:"version"`
	Environment string     `json:"environment"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	CreatedBy   string     `json:"created_by"`
}

// UserEventData is the data of a sign-up.
type UserEventData struct {
	User WebhookUser `json:"user"`
}

// TenantEventData is the data of every tenant and trial event: the
// deployment and its owner (the prospect).
type TenantEventData struct {
	Tenant WebhookTenant `json:"tenant"`
	Owner  WebhookUser   `json:"owner"`
}

func webhookUser(u *User) WebhookUser {
	return WebhookUser{ID: u.ID, Email: u.Email, Name: u.Name, Company: u.Company, Role: u.Role}
}

// TenantEventData reads what an event about a tenant tells.
func (db *DB) TenantEventData(ctx context.Context, tenantID string) (TenantEventData, error) {
	return tenantEventData(ctx, db.r, tenantID)
}

func tenantEventData(ctx context.Context, q sqlx.QueryerContext, tenantID string) (TenantEventData, error) {
	var row struct {
		Tenant
		OEmail   string `db:"o_email"`
		OName    string `db:"o_name"`
		OCompany string `db:"o_company"`
		ORole    string `db:"o_role"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT t.id, t.app_id, t.owner_id, t.created_by, t.slug, t.title, t.platform,
		t.version, t.environment, t.replicas, t.image, t.subnet, t.desired_state, t.state, t.state_message,
		t.generation, t.failures, t.paused, t.assembly, t.created_at, t.updated_at, t.expires_at,
		t.last_active_at, t.deleted_at,
		COALESCE(u.email, '') AS o_email, COALESCE(u.name, '') AS o_name,
		COALESCE(u.company, '') AS o_company, COALESCE(u.role, '') AS o_role
		FROM tenants t LEFT JOIN users u ON u.id = t.owner_id WHERE t.id = ?`, tenantID)
	if err != nil {
		return TenantEventData{}, NotFound(err, "Deployment")
	}
	t := row.Tenant
	d := TenantEventData{
		Tenant: WebhookTenant{ID: t.ID, Slug: t.Slug, Title: t.Title, Platform: t.Platform, Version: t.Version,
			Environment: t.Environment, State: t.State, CreatedAt: t.CreatedAt.Time, CreatedBy: t.CreatedBy},
		Owner: WebhookUser{ID: t.OwnerID, Email: row.OEmail, Name: row.OName, Company: row.OCompany, Role: row.ORole},
	}
	if !t.ExpiresAt.IsZero() {
		at := t.ExpiresAt.Time
		d.Tenant.ExpiresAt = &at
	}
	return d, nil
}

// EnqueueWebhookEvent queues a delivery of the event to every enabled hook
// that receives it, in one transaction; it returns how many it queued.
func (db *DB) EnqueueWebhookEvent(ctx context.Context, event string, data any) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		n, err = db.enqueueWebhook(ctx, tx, event, data)
		return err
	})
	return n, err
}

// enqueueTenantEvent queues an event about a tenant inside tx, so that the
// event is queued exactly when what it tells of is written.
func (db *DB) enqueueTenantEvent(ctx context.Context, tx *sqlx.Tx, event, tenantID string) error {
	if n, err := db.webhooksFor(ctx, tx, event); err != nil || n == 0 {
		return err
	}
	d, err := tenantEventData(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	_, err = db.enqueueWebhook(ctx, tx, event, d)
	return err
}

// webhooksFor counts the enabled hooks that receive event.
func (db *DB) webhooksFor(ctx context.Context, tx *sqlx.Tx, event string) (int, error) {
	var n int
	err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM webhooks WHERE enabled = 1
		AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?)`, event)
	if err != nil {
		return 0, fmt.Errorf("count webhooks of %s: %w", event, err)
	}
	return n, nil
}

// enqueueWebhook writes one pending delivery of the event per enabled hook
// that receives it, all with the same body (and event id).
func (db *DB) enqueueWebhook(ctx context.Context, tx *sqlx.Tx, event string, data any) (int, error) {
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM webhooks WHERE enabled = 1
		AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?) ORDER BY id`, event); err != nil {
		return 0, fmt.Errorf("webhooks of %s: %w", event, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	now := db.Now().UTC()
	eventID := NewID()
	body, err := json.Marshal(WebhookEnvelope{ID: eventID, Event: event, CreatedAt: now, Data: data})
	if err != nil {
		return 0, fmt.Errorf("encode %s event: %w", event, err)
	}
	for _, hook := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
			(id, webhook_id, event_id, event, body, state, attempts, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
			NewID(), hook, eventID, event, string(body), formatTime(now), formatTime(now)); err != nil {
			return 0, fmt.Errorf("queue %s delivery: %w", event, err)
		}
	}
	return len(ids), nil
}
