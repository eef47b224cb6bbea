package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Webhook events: what a sales tool can be told about.
const (
	EventSignUp        = "signup"
	EventDeployed      = "tenant.deployed"
	EventFirstActivity = "tenant.first_activity"
	EventTrialExpiring = "trial.expiring"
	EventTrialExpired  = "trial.expired"
	EventTrialExtended = "trial.extended"
	EventDeleted       = "tenant.deleted"
)

// WebhookEvents lists every event a webhook can subscribe to, in the order
// a prospect meets them.
func WebhookEvents() []string {
	return []string{EventSignUp, EventDeployed, EventFirstActivity, EventTrialExpiring,
		EventTrialExpired, EventTrialExtended, EventDeleted}
}

// ValidWebhookEvent reports whether ev is one of WebhookEvents.
func ValidWebhookEvent(ev string) bool {
	for _, e := range WebhookEvents() {
		if e == ev {
			return true
		}
	}
	return false
}

// Webhook is a URL an admin registered to be told of events.
type Webhook struct {
	ID          string `db:"id"`
	URL         string `db:"url"`
	Description string `db:"description"`
	EventsJSON  string `db:"events"`
	// Secret signs the deliveries; only the dispatcher and the creation
	// answer ever read it.
	Secret    string `db:"secret"`
	Enabled   bool   `db:"enabled"`
	CreatedBy string `db:"created_by"`
	CreatedAt Time   `db:"created_at"`
	UpdatedAt Time   `db:"updated_at"`
}

// Events are the events the hook receives.
func (w *Webhook) Events() []string { return jsonList(w.EventsJSON) }

// SetEvents replaces the events the hook receives.
func (w *Webhook) SetEvents(evs []string) { w.EventsJSON = listJSON(evs) }

const webhookColumns = `id, url, description, events, secret, enabled, created_by, created_at, updated_at`

// CreateWebhook records a hook (ID and times are filled in).
func (db *DB) CreateWebhook(ctx context.Context, w *Webhook) error {
	if w.ID == "" {
		w.ID = NewID()
	}
	now := TimeOf(db.Now())
	w.CreatedAt, w.UpdatedAt = now, now
	if w.EventsJSON == "" {
		w.EventsJSON = "[]"
	}
	_, err := db.w.NamedExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
		VALUES (:id, :url, :description, :events, :secret, :enabled, :created_by, :created_at, :updated_at)`, w)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

// WebhookByID returns one hook.
func (db *DB) WebhookByID(ctx context.Context, id string) (*Webhook, error) {
	var w Webhook
	if err := db.r.GetContext(ctx, &w, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id); err != nil {
		return nil, NotFound(err, "Webhook")
	}
	return &w, nil
}

// ListWebhooks lists every hook, oldest first.
func (db *DB) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	ws := []Webhook{}
	if err := db.r.SelectContext(ctx, &ws, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return ws, nil
}

// UpdateWebhook writes a hook's URL, description, events and enabled flag
// (never its secret).
func (db *DB) UpdateWebhook(ctx context.Context, w *Webhook) error {
	w.UpdatedAt = TimeOf(db.Now())
	res, err := db.w.NamedExecContext(ctx, `UPDATE webhooks SET url = :url, description = :description,
		events = :events, enabled = :enabled, updated_at = :updated_at WHERE id = :id`, w)
	if err != nil {
		return fmt.Errorf("update webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return NotFound(sql.ErrNoRows, "Webhook")
	}
	return nil
}

// DeleteWebhook removes a hook with its deliveries.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return NotFound(sql.ErrNoRows, "Webhook")
	}
	return nil
}
