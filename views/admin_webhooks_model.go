package views

import (
	"slices"
	"time"
)

// WebhookForm adds or edits a webhook; it re-renders with what was typed.
type WebhookForm struct {
	URL, Description string
	Events           []string
	Enabled          bool
	FormError
}

// Has reports whether the form has the event ticked.
func (f WebhookForm) Has(event string) bool { return slices.Contains(f.Events, event) }

// WebhookRow is one hook in the admin's list.
type WebhookRow struct {
	ID, URL, Description string
	Events               []string
	Enabled              bool
	Created              time.Time
}

// WebhookCreated is a hook just made, with the secret shown this once.
type WebhookCreated struct {
	ID, URL, Secret string
}

// AdminWebhooksView is /admin/webhooks: the hooks and the form to add one.
type AdminWebhooksView struct {
	Hooks []WebhookRow
	// Events are every event a hook can receive.
	Events  []string
	Form    WebhookForm
	Created *WebhookCreated
}

// DeliveryRow is one delivery of a hook with its latest attempt.
type DeliveryRow struct {
	ID, Event, State string
	Attempts, Status int
	// Body is the start of the latest answer; Error why there was none
	// (or why it failed).
	Body, Error          string
	Created, LastAttempt time.Time
	NextAttempt          time.Time
	Redelivery           bool
}

// AdminWebhookView is /admin/webhooks/{id}: the hook's settings and its
// latest deliveries.
type AdminWebhookView struct {
	Hook       WebhookRow
	Events     []string
	Form       WebhookForm
	Deliveries []DeliveryRow
}
