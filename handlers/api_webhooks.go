package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/store"
	"appfactory/webhooks"
)

// WebhookJSON is a webhook in the API; Secret is set only in the answer
// that created it.
type WebhookJSON struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	Events      []string  `json:"events"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Secret      string    `json:"secret,omitempty"`
}

func webhookJSON(h *store.Webhook) WebhookJSON {
	return WebhookJSON{ID: h.ID, URL: h.URL, Description: h.Description, Events: h.Events(), Enabled: h.Enabled,
		CreatedAt: h.CreatedAt.Time, UpdatedAt: h.UpdatedAt.Time}
}

// DeliveryJSON is one delivery of a webhook with its latest attempt.
type DeliveryJSON struct {
	ID            string     `json:"id"`
	Event         string     `json:"event"`
	EventID       string     `json:"event_id"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastStatus    int        `json:"last_status"`
	LastBody      string     `json:"last_body"`
	LastError     string     `json:"last_error"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	RedeliveryOf  string     `json:"redelivery_of,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

func deliveryJSON(d *store.WebhookDelivery) DeliveryJSON {
	j := DeliveryJSON{ID: d.ID, Event: d.Event, EventID: d.EventID, State: d.State, Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastBody: d.LastBody, LastError: d.LastError, LastAttemptAt: optTime(d.LastAttemptAt.Time),
		RedeliveryOf: d.RedeliveryOf.String, CreatedAt: d.CreatedAt.Time}
	if d.State == store.DeliveryPending {
		j.NextAttemptAt = optTime(d.NextAttemptAt.Time)
	}
	return j
}

// WebhookBody is the body of POST and PATCH /api/v1/admin/webhooks; a
// PATCH changes only the fields it holds, a POST needs url and events
// (enabled defaults to true).
type WebhookBody struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	Events      *[]string `json:"events"`
	Enabled     *bool     `json:"enabled"`
}

// over applies the body's fields over in.
func (b WebhookBody) over(in webhooks.Input) webhooks.Input {
	if b.URL != nil {
		in.URL = *b.URL
	}
	if b.Description != nil {
		in.Description = *b.Description
	}
	if b.Events != nil {
		in.Events = *b.Events
	}
	if b.Enabled != nil {
		in.Enabled = *b.Enabled
	}
	return in
}

func (w *Webhooks) apiList(c echo.Context) error {
	hooks, err := w.H.DB.ListWebhooks(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]WebhookJSON, 0, len(hooks))
	for i := range hooks {
		out = append(out, webhookJSON(&hooks[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

func (w *Webhooks) apiCreate(c echo.Context) error {
	var b WebhookBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	hook, secret, err := w.Service.Create(c.Request().Context(), b.over(webhooks.Input{Enabled: true}), CurrentUser(c))
	if err != nil {
		return err
	}
	j := webhookJSON(hook)
	j.Secret = secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, j)
}

func (w *Webhooks) apiGet(c echo.Context) error {
	hook, err := w.H.DB.WebhookByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookJSON(hook))
}

func (w *Webhooks) apiUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	hook, err := w.H.DB.WebhookByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var b WebhookBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	cur := webhooks.Input{URL: hook.URL, Description: hook.Description, Events: hook.Events(), Enabled: hook.Enabled}
	hook, err = w.Service.Update(ctx, hook.ID, b.over(cur), CurrentUser(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookJSON(hook))
}

func (w *Webhooks) apiDelete(c echo.Context) error {
	if err := w.Service.Delete(c.Request().Context(), c.Param("id"), CurrentUser(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (w *Webhooks) apiDeliveries(c echo.Context) error {
	ctx := c.Request().Context()
	hook, err := w.H.DB.WebhookByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	ds, err := w.H.DB.WebhookDeliveries(ctx, hook.ID, deliveriesShown)
	if err != nil {
		return err
	}
	out := make([]DeliveryJSON, 0, len(ds))
	for i := range ds {
		out = append(out, deliveryJSON(&ds[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": out})
}

func (w *Webhooks) apiRedeliver(c echo.Context) error {
	d, err := w.Service.Redeliver(c.Request().Context(), c.Param("id"), c.Param("delivery"), CurrentUser(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryJSON(d))
}
