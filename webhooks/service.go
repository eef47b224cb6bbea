// Package webhooks tells sales tools what prospects do: admins register
// URLs for events, the store queues a delivery per hook in the transaction
// of what happened, and the Dispatcher posts them, signed, retrying with
// backoff, to addresses the Guard allows.
package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"

	"appfactory/apperr"
	"appfactory/store"
)

// Service manages hooks and queues events; the Dispatcher delivers them.
type Service struct {
	DB     *store.DB
	Guard  *Guard
	Logger *slog.Logger
	// Wake, when set, is told that deliveries were queued (the
	// dispatcher's Wake), so that they leave before its next poll.
	Wake func()
}

// Input is what an admin gives for a hook.
type Input struct {
	URL         string
	Description string
	Events      []string
	Enabled     bool
}

// validate checks the input, returning the URL as it will be stored.
func (s *Service) validate(ctx context.Context, in *Input) error {
	u, err := s.Guard.CheckURL(ctx, in.URL)
	if err != nil {
		return err
	}
	in.URL = u.String()
	in.Description = strings.TrimSpace(in.Description)
	if len(in.Description) > 200 {
		return apperr.FieldError(apperr.Invalid, "description", "Keep the description under 200 characters.")
	}
	if len(in.Events) == 0 {
		return apperr.FieldError(apperr.Invalid, "events", "Pick at least one event.")
	}
	seen := map[string]bool{}
	var evs []string
	for _, e := range in.Events {
		if !store.ValidWebhookEvent(e) {
			return apperr.FieldError(apperr.Invalid, "events", "Unknown event %q: the events are %s.", e, strings.Join(store.WebhookEvents(), ", "))
		}
		if !seen[e] {
			seen[e] = true
			evs = append(evs, e)
		}
	}
	in.Events = evs
	return nil
}

// Create registers a hook and returns it with its signing secret, which
// is shown to the admin this once.
func (s *Service) Create(ctx context.Context, in Input, by *store.User) (*store.Webhook, string, error) {
	if err := s.validate(ctx, &in); err != nil {
		return nil, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	w := &store.Webhook{URL: in.URL, Description: in.Description, Secret: secret, Enabled: in.Enabled, CreatedBy: by.ID}
	w.SetEvents(in.Events)
	if err := s.DB.CreateWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	// The host only: a receiver's URL often carries a token of its own.
	s.log().Info("webhook created", slog.String("webhook", w.ID), slog.String("host", hostOf(w.URL)), slog.String("by", by.ID))
	return w, secret, nil
}

// Update changes a hook's URL, description, events and enabled flag.
func (s *Service) Update(ctx context.Context, id string, in Input, by *store.User) (*store.Webhook, error) {
	w, err := s.DB.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, &in); err != nil {
		return nil, err
	}
	w.URL, w.Description, w.Enabled = in.URL, in.Description, in.Enabled
	w.SetEvents(in.Events)
	if err := s.DB.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	s.log().Info("webhook changed", slog.String("webhook", w.ID), slog.Bool("enabled", w.Enabled), slog.String("by", by.ID))
	return w, nil
}

// SetEnabled turns a hook on or off; a disabled hook's queued deliveries
// wait, and it is queued nothing new.
func (s *Service) SetEnabled(ctx context.Context, id string, enabled bool, by *store.User) (*store.Webhook, error) {
	w, err := s.DB.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	w.Enabled = enabled
	if err := s.DB.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	s.log().Info("webhook changed", slog.String("webhook", w.ID), slog.Bool("enabled", enabled), slog.String("by", by.ID))
	return w, nil
}

// Delete removes a hook and its deliveries.
func (s *Service) Delete(ctx context.Context, id string, by *store.User) error {
	if err := s.DB.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.log().Info("webhook deleted", slog.String("webhook", id), slog.String("by", by.ID))
	return nil
}

// Redeliver queues one delivery of a hook again, as a new delivery.
func (s *Service) Redeliver(ctx context.Context, hookID, deliveryID string, by *store.User) (*store.WebhookDelivery, error) {
	d, err := s.DB.RedeliverWebhook(ctx, hookID, deliveryID)
	if err != nil {
		return nil, err
	}
	s.log().Info("webhook redelivery queued", slog.String("webhook", hookID), slog.String("delivery", d.ID),
		slog.String("of", deliveryID), slog.String("by", by.ID))
	s.wake()
	return d, nil
}

// Enqueue queues an event, with its data, for every enabled hook that
// receives it. Events the store does not queue itself (the trial notices)
// come through here.
func (s *Service) Enqueue(ctx context.Context, event string, data any) error {
	if !store.ValidWebhookEvent(event) {
		return apperr.New(apperr.Invalid, "Unknown webhook event %q.", event)
	}
	n, err := s.DB.EnqueueWebhookEvent(ctx, event, data)
	if err != nil {
		return err
	}
	if n > 0 {
		s.wake()
	}
	return nil
}

// NoticeData is the data of a trial notice: the tenant event's data and
// which notice it is.
type NoticeData struct {
	store.TenantEventData
	Notice string `json:"notice"`
}

// OnNotice is the mail notices' hook: a trial's 3 days or 1 day left
// queues trial.expiring, its end trial.expired; other notices (a tenant
// ready) queue nothing, their event is the store's. The data tells the
// tenant, its owner, its expiry and the notice's kind.
func (s *Service) OnNotice(ctx context.Context, kind string, t *store.Tenant) error {
	var event string
	switch kind {
	case store.NoticeExpiring3Days, store.NoticeExpiring1Day, store.EventTrialExpiring:
		event = store.EventTrialExpiring
	case store.NoticeExpired, store.EventTrialExpired:
		event = store.EventTrialExpired
	default:
		// Not a trial notice: "ready" is tenant.deployed's, queued by the store.
		return nil
	}
	d, err := s.DB.TenantEventData(ctx, t.ID)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, event, NoticeData{TenantEventData: d, Notice: kind})
}

// hostOf is a URL's host, for the log.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func (s *Service) wake() {
	if s.Wake != nil {
		s.Wake()
	}
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// newSecret is a hook's signing secret: 32 random bytes, hex.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "whsec_" + hex.EncodeToString(b), nil
}

// Sign is the X-Appfactory-Signature of a body sent at timestamp (Unix
// seconds, as sent in X-Appfactory-Timestamp): "sha256=" and the hex
// HMAC-SHA256, keyed by the hook's secret, of timestamp + "." + body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify tells whether signature is body's at timestamp: what a receiver
// does (in constant time).
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}
