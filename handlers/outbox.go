package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// mailStatus says where a mail is: sent, waiting (with its attempts),
// given up, or kept by the development outbox.
func (h *Handlers) mailStatus(m *store.OutboxMail) string {
	switch {
	case !m.SentAt.IsZero():
		return "sent " + m.SentAt.UTC().Format("Jan 2 15:04 UTC")
	case !m.FailedAt.IsZero():
		return "given up"
	case !h.Mail.Relay:
		return "kept (development outbox)"
	case m.Attempts > 0:
		return "retrying"
	}
	return "waiting"
}

func outboxRow(m *store.OutboxMail, status string) views.OutboxRow {
	return views.OutboxRow{ID: m.ID, To: m.To, Kind: m.Kind, Subject: m.Subject, Status: status, Created: m.CreatedAt.Time}
}

// outbox lists the newest mails (admins).
func (h *Handlers) outbox(c echo.Context) error {
	ms, err := h.DB.ListOutbox(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	v := views.OutboxView{Relay: h.Mail.Relay}
	for i := range ms {
		v.Mails = append(v.Mails, outboxRow(&ms[i], h.mailStatus(&ms[i])))
	}
	p := h.Server.PageFor(c, "Outbox")
	p.Nav = "admin"
	return web.Render(c, http.StatusOK, views.OutboxPage(p, v))
}

// outboxMail shows one mail's text and HTML (admins).
func (h *Handlers) outboxMail(c echo.Context) error {
	m, err := h.DB.MailByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	v := views.OutboxMailView{OutboxRow: outboxRow(m, h.mailStatus(m)), Text: m.Text, HTML: m.HTML,
		Unsubscribe: m.Unsubscribe, LastError: m.LastError, Attempts: m.Attempts}
	p := h.Server.PageFor(c, m.Subject)
	p.Nav = "admin"
	return web.Render(c, http.StatusOK, views.OutboxMailPage(p, v))
}

// outboxMailHTML serves a mail's HTML part as a page of its own, sandboxed:
// no script runs, nothing is loaded, no form is sent.
func (h *Handlers) outboxMailHTML(c echo.Context) error {
	m, err := h.DB.MailByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	return c.HTMLBlob(http.StatusOK, []byte(m.HTML))
}
