package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/views"
	"appfactory/web"
)

// CSRFField and CSRFHeader carry the CSRF token of a request: the hidden
// input of every form, and the header htmx sends (hx-headers on <body>).
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

const csrfMessage = "This form has expired or did not come from this site. Reload the page and try again."

// csrfPeekLimit bounds how much of a multipart body is read to find the
// token field (forms put it first); the rest stays unread for the handler.
const csrfPeekLimit = 64 << 10

// CSRFTokenFor derives a session's CSRF token from its id. The token is
// stored nowhere: only the cookie holds the id it comes from, and the
// database holds just the id's hash.
func CSRFTokenFor(sessionID string) string {
	if sessionID == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("appfactory csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CSRFToken is the token of the request's session ("" without a session).
func CSRFToken(c echo.Context) string {
	if s := currentSession(c); s != nil {
		return CSRFTokenFor(s.ID)
	}
	return ""
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// csrfProtect refuses every unsafe portal request that does not carry its
// session's token. The API is exempt: it reads no cookie, so a forged
// request has nothing to ride on.
func (h *Handlers) csrfProtect(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if safeMethod(r.Method) || domain.IsAPIPath(r.URL.Path) || oneClickPath(r.URL.Path) {
			return next(c)
		}
		want := CSRFToken(c)
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			var err error
			if got, err = formToken(r); err != nil {
				h.Logger.Debug("csrf token unreadable", "path", r.URL.Path, "err", err)
			}
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			h.Logger.Info("csrf check failed", "method", r.Method, "path", r.URL.Path, "ip", c.RealIP(), "has_session", want != "", "has_token", got != "")
			// htmx swaps the partial in place of the form it sent.
			refused := web.Deferred(func() (templ.Component, error) { return nil, apperr.New(apperr.Forbidden, csrfMessage) })
			return web.RenderEither(c, http.StatusForbidden, refused, views.FormExpired())
		}
		return next(c)
	}
}

// oneClickPath is the one-click unsubscribe link (RFC 8058), which mail
// clients POST without a session: its signature is its authority, and all
// it can do is turn mail off.
func oneClickPath(p string) bool { return strings.HasPrefix(p, "/unsubscribe/") }

// formToken reads the csrf_token field of a form body. URL-encoded forms
// are parsed as usual (net/http caps them at 10 MB). A multipart body is
// only peeked at: its parts are read up to the token field, within
// csrfPeekLimit, and the body is put back together for the handler, so an
// upload is never loaded into memory here.
func formToken(r *http.Request) (string, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return "", err
		}
		return r.PostForm.Get(CSRFField), nil
	case "multipart/form-data":
		if params["boundary"] == "" || r.Body == nil {
			return "", errors.New("multipart body without boundary")
		}
		var seen bytes.Buffer
		orig := r.Body
		lim := &io.LimitedReader{R: io.TeeReader(orig, &seen), N: csrfPeekLimit}
		tok, err := peekMultipartField(multipart.NewReader(lim, params["boundary"]), CSRFField)
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(seen.Bytes()), orig), orig}
		return tok, err
	}
	return "", nil
}

// peekMultipartField reads parts until the one named field and returns its value.
func peekMultipartField(mr *multipart.Reader, field string) (string, error) {
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", err
		}
		if p.FormName() == field && p.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(p, 256))
			return strings.TrimSpace(string(b)), err
		}
	}
}
