package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
	"appfactory/webhooks"
)

// deliveriesShown is how many of a hook's latest deliveries are listed.
const deliveriesShown = 50

// Webhooks serves the admins' webhook pages and API: register the URLs
// sales tools are told of events at, and watch and re-send deliveries.
type Webhooks struct {
	H       *Handlers
	Service *webhooks.Service
}

// Register installs the admin page and API routes, for admins only.
func (w *Webhooks) Register(e *echo.Echo) {
	admin := w.H.RequireRole(store.RoleAdmin)
	api := e.Group("/api/v1/admin/webhooks", w.H.APIAuth, admin)
	api.GET("", w.apiList)
	api.POST("", w.apiCreate)
	api.GET("/:id", w.apiGet)
	api.PATCH("/:id", w.apiUpdate)
	api.DELETE("/:id", w.apiDelete)
	api.GET("/:id/deliveries", w.apiDeliveries)
	api.POST("/:id/deliveries/:delivery/redeliver", w.apiRedeliver)

	g := e.Group("/admin/webhooks", admin)
	g.GET("", w.listPage)
	g.POST("", w.createForm)
	g.GET("/:id", w.hookPage)
	g.POST("/:id", w.updateForm)
	g.POST("/:id/enable", w.enableForm)
	g.POST("/:id/disable", w.disableForm)
	g.POST("/:id/delete", w.deleteForm)
	g.POST("/:id/deliveries/:delivery/redeliver", w.redeliverForm)
}

// webhookForm reads the add and edit form.
func webhookForm(c echo.Context) views.WebhookForm {
	form, _ := c.FormParams()
	return views.WebhookForm{URL: c.FormValue("url"), Description: c.FormValue("description"),
		Events: form["events"], Enabled: c.FormValue("enabled") == "true"}
}

func formInput(f views.WebhookForm) webhooks.Input {
	return webhooks.Input{URL: f.URL, Description: f.Description, Events: f.Events, Enabled: f.Enabled}
}

func webhookRow(h *store.Webhook) views.WebhookRow {
	return views.WebhookRow{ID: h.ID, URL: h.URL, Description: h.Description, Events: h.Events(), Enabled: h.Enabled, Created: h.CreatedAt.Time}
}

func (w *Webhooks) listView(c echo.Context) (views.AdminWebhooksView, error) {
	hooks, err := w.H.DB.ListWebhooks(c.Request().Context())
	if err != nil {
		return views.AdminWebhooksView{}, err
	}
	v := views.AdminWebhooksView{Events: store.WebhookEvents(), Form: views.WebhookForm{Enabled: true}}
	for i := range hooks {
		v.Hooks = append(v.Hooks, webhookRow(&hooks[i]))
	}
	return v, nil
}

func (w *Webhooks) renderList(c echo.Context, status int, v views.AdminWebhooksView) error {
	p := w.H.Server.PageFor(c, "Webhooks")
	p.Nav = "admin"
	return web.Render(c, status, views.AdminWebhooksPage(p, v))
}

func (w *Webhooks) listPage(c echo.Context) error {
	v, err := w.listView(c)
	if err != nil {
		return err
	}
	return w.renderList(c, http.StatusOK, v)
}

// createForm adds a hook and answers the list with its secret, shown
// this once (never through a redirect, which would put it in a flash).
func (w *Webhooks) createForm(c echo.Context) error {
	f := webhookForm(c)
	hook, secret, err := w.Service.Create(c.Request().Context(), formInput(f), CurrentUser(c))
	if err != nil && apperr.Code(err) == apperr.Internal {
		return err
	}
	v, verr := w.listView(c)
	if verr != nil {
		return verr
	}
	if err != nil {
		f.Apply(err)
		v.Form = f
		return w.renderList(c, web.Status(apperr.Code(err)), v)
	}
	v.Created = &views.WebhookCreated{ID: hook.ID, URL: hook.URL, Secret: secret}
	c.Response().Header().Set("Cache-Control", "no-store")
	return w.renderList(c, http.StatusCreated, v)
}

func (w *Webhooks) hookView(c echo.Context) (views.AdminWebhookView, error) {
	ctx := c.Request().Context()
	hook, err := w.H.DB.WebhookByID(ctx, c.Param("id"))
	if err != nil {
		return views.AdminWebhookView{}, err
	}
	ds, err := w.H.DB.WebhookDeliveries(ctx, hook.ID, deliveriesShown)
	if err != nil {
		return views.AdminWebhookView{}, err
	}
	v := views.AdminWebhookView{Hook: webhookRow(hook), Events: store.WebhookEvents(),
		Form: views.WebhookForm{URL: hook.URL, Description: hook.Description, Events: hook.Events(), Enabled: hook.Enabled}}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, views.DeliveryRow{ID: d.ID, Event: d.Event, State: d.State, Attempts: d.Attempts,
			Status: d.LastStatus, Body: d.LastBody, Error: d.LastError, Created: d.CreatedAt.Time,
			LastAttempt: d.LastAttemptAt.Time, NextAttempt: d.NextAttemptAt.Time, Redelivery: d.RedeliveryOf.Valid})
	}
	return v, nil
}

func (w *Webhooks) renderHook(c echo.Context, status int, v views.AdminWebhookView) error {
	p := w.H.Server.PageFor(c, "Webhook")
	p.Nav = "admin"
	return web.Render(c, status, views.AdminWebhookPage(p, v))
}

func (w *Webhooks) hookPage(c echo.Context) error {
	v, err := w.hookView(c)
	if err != nil {
		return err
	}
	return w.renderHook(c, http.StatusOK, v)
}

func (w *Webhooks) updateForm(c echo.Context) error {
	f := webhookForm(c)
	_, err := w.Service.Update(c.Request().Context(), c.Param("id"), formInput(f), CurrentUser(c))
	if err != nil {
		if code := apperr.Code(err); code == apperr.Internal || code == apperr.NotFound {
			return err
		}
		v, verr := w.hookView(c)
		if verr != nil {
			return verr
		}
		f.Apply(err)
		v.Form = f
		return w.renderHook(c, web.Status(apperr.Code(err)), v)
	}
	return w.done(c, "/admin/webhooks/"+c.Param("id"), "Webhook saved.")
}

func (w *Webhooks) enableForm(c echo.Context) error  { return w.setEnabled(c, true) }
func (w *Webhooks) disableForm(c echo.Context) error { return w.setEnabled(c, false) }

func (w *Webhooks) setEnabled(c echo.Context, enabled bool) error {
	if _, err := w.Service.SetEnabled(c.Request().Context(), c.Param("id"), enabled, CurrentUser(c)); err != nil {
		return err
	}
	msg := "Webhook disabled: it is sent nothing until enabled again."
	if enabled {
		msg = "Webhook enabled."
	}
	return w.done(c, "/admin/webhooks/"+c.Param("id"), msg)
}

func (w *Webhooks) deleteForm(c echo.Context) error {
	if err := w.Service.Delete(c.Request().Context(), c.Param("id"), CurrentUser(c)); err != nil {
		return err
	}
	return w.done(c, "/admin/webhooks", "Webhook deleted.")
}

func (w *Webhooks) redeliverForm(c echo.Context) error {
	if _, err := w.Service.Redeliver(c.Request().Context(), c.Param("id"), c.Param("delivery"), CurrentUser(c)); err != nil {
		return err
	}
	return w.done(c, "/admin/webhooks/"+c.Param("id"), "Delivery queued again.")
}

func (w *Webhooks) done(c echo.Context, to, msg string) error {
	if err := w.H.Flash(c, msg); err != nil {
		return err
	}
	return web.Redirect(c, to)
}
