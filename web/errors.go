package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/views"
)

// Status maps an apperr code to an HTTP status.
func Status(code string) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unprocessable:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// codeForStatus maps an HTTP status (of an echo error) back to an apperr code.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return apperr.Invalid
	case http.StatusUnprocessableEntity:
		return apperr.Unprocessable
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return apperr.NotFound
	case http.StatusConflict:
		return apperr.Conflict
	case http.StatusUnauthorized:
		return apperr.Unauthorized
	case http.StatusForbidden:
		return apperr.Forbidden
	case http.StatusTooManyRequests:
		return apperr.TooMany
	case http.StatusRequestEntityTooLarge:
		return apperr.TooLarge
	case http.StatusServiceUnavailable:
		return apperr.Unavailable
	}
	return apperr.Internal
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// IsAPI reports whether a request is for the JSON API (domain.IsAPIPath).
// /metrics is, for a scraper; a browser that follows the dashboard's link to
// it is answered with pages.
func IsAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return domain.IsAPIPath(p) && !(p == "/metrics" && WantsHTML(c.Request()))
}

// handleError turns any error a handler returns into our JSON shape (API)
// or a styled page (portal). Internal details go to the log only.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg, field := s.describe(err)
	if status >= 500 {
		s.logger.Error("request failed", slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path), slog.Any("err", err))
	}
	if IsAPI(c) {
		_ = c.JSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg, Field: field}})
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	heading := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		heading, msg = "Page not found", "There is nothing at this address. Check the link, or start from the home page."
	case http.StatusForbidden:
		heading = "Not allowed"
	}
	_ = Render(c, status, views.ErrorPage(s.PageFor(c, heading), status, heading, msg))
}

func (s *Server) describe(err error) (status int, code, msg, field string) {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return Status(ae.Code), ae.Code, ae.Message, ae.Field
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = codeForStatus(he.Code)
		msg = http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return he.Code, code, msg, ""
	}
	return http.StatusInternalServerError, apperr.Internal, apperr.Message(err), ""
}

// Render writes a templ component with a status. A Deferred component is
// built first, so that its error is answered as an error page.
func Render(c echo.Context, status int, comp templ.Component) error {
	if d, ok := comp.(deferred); ok {
		built, err := d()
		if err != nil {
			return err
		}
		comp = built
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}

// JSONError writes err in the API's error shape.
func JSONError(c echo.Context, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return c.JSON(Status(ae.Code), ErrorBody{Error: ErrorDetail{Code: ae.Code, Message: ae.Message, Field: ae.Field}})
	}
	return err
}

// WriteTenantError writes an error for a tenant host: JSON for API clients,
// a bare page (no portal chrome or cookies) for browsers.
func WriteTenantError(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if WantsHTML(r) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
		w.WriteHeader(status)
		_ = views.BareErrorPage(status, heading, message).Render(r.Context(), w)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	code := codeForStatus(status)
	_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":` + quoteJSON(message) + `}}`))
}

// WantsHTML reports whether a request is a browser navigation.
func WantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
