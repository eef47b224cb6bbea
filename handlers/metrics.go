package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/web"
)

// metrics serves the Prometheus registry to admins, by API token (for a
// scraper) or by session (for a person following the dashboard's link).
func (h *Handlers) metrics(c echo.Context) error {
	u, err := h.metricsUser(c)
	if err != nil {
		return err
	}
	// A scraper is answered in JSON; a person who followed a link in a
	// browser gets the portal's own error page.
	browser := web.WantsHTML(c.Request())
	if u == nil {
		if browser {
			return apperr.New(apperr.Unauthorized, "Sign in as an admin, or scrape with an admin's API token.")
		}
		return apiUnauthorized(c, "Sign in with an admin's API token: Authorization: Bearer <token>.")
	}
	if u.Role != store.RoleAdmin {
		if browser {
			return apperr.New(apperr.Forbidden, "Metrics are for admins.")
		}
		return c.JSON(http.StatusForbidden, web.ErrorBody{Error: web.ErrorDetail{Code: apperr.Forbidden, Message: "Metrics are for admins."}})
	}
	promhttp.HandlerFor(h.Monitoring.Metrics, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).
		ServeHTTP(c.Response(), c.Request())
	return nil
}

// metricsUser finds the user of a bearer token or, without one, of the
// session cookie (/metrics is outside the paths that load sessions). A
// token that does not match is refused outright.
func (h *Handlers) metricsUser(c echo.Context) (*store.User, error) {
	r := c.Request()
	if auth := r.Header.Get(echo.HeaderAuthorization); auth != "" {
		scheme, tok, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return nil, nil
		}
		u, err := h.DB.UserByToken(r.Context(), strings.TrimSpace(tok))
		if apperr.Code(err) == apperr.Unauthorized || apperr.Code(err) == apperr.NotFound {
			return nil, nil
		}
		if err != nil || u.Disabled {
			return nil, err
		}
		return u, nil
	}
	sess, err := h.sessions.Get(r, SessionCookie)
	if err != nil || sess.IsNew {
		return nil, nil
	}
	uid, _ := sess.Values[keyUserID].(string)
	if uid == "" {
		return nil, nil
	}
	u, err := h.DB.UserByID(r.Context(), uid)
	if apperr.Code(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil || u.Disabled {
		return nil, err
	}
	return u, nil
}
