package web

import (
	"net/http"

	"appfactory/static"
	"appfactory/views"
)

// tenantCSP lets the router's own pages on a tenant host load our CSS and
// JS and poll the status endpoint, nothing else.
const tenantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// WriteStartingPage writes the "Starting <title>..." page that a browser
// gets while a sleeping tenant starts; it polls statusURL and reloads.
func WriteStartingPage(w http.ResponseWriter, r *http.Request, status int, title, statusURL string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", tenantCSP)
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = views.StartingPage(title, statusURL).Render(r.Context(), w)
}

// TenantStatic serves the portal's static files on tenant hosts (the
// router mounts it under /__appfactory/static/), so that the pages the
// router draws there work under a strict CSP.
func TenantStatic() http.Handler {
	fs := http.FileServerFS(static.FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", tenantCSP)
		fs.ServeHTTP(w, r)
	})
}
