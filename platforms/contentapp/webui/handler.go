// Package webui is contentapp's web role: stateless HTML pages over the
// store API, showing the deployment's customisation. Every link it writes
// is relative, because it is served behind a host-based reverse proxy.
package webui

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"appfactory/platforms/contentapp/config"
	"appfactory/platforms/contentapp/content"
)

//go:embed templates/*.html
var templateFS embed.FS

// Store is what the web role needs of the store API.
type Store interface {
	Ping(ctx context.Context) error
	Documents(ctx context.Context, limit int) (content.DocumentList, error)
	Document(ctx context.Context, id string) (content.Document, error)
	CreateDocument(ctx context.Context, in content.DocumentInput) (content.Document, error)
	UpdateDocument(ctx context.Context, id string, in content.DocumentInput) (content.Document, error)
	Versions(ctx context.Context, id string) ([]content.Version, error)
	Comments(ctx context.Context, id string) ([]content.Comment, error)
	AddComment(ctx context.Context, id string, in content.CommentInput) (content.Comment, error)
	Transition(ctx context.Context, id, to string) (content.Document, error)
	Search(ctx context.Context, q string) ([]content.Document, error)
}

// Options configure the web role.
type Options struct {
	Config  config.Config
	Version string
	Store   Store
	Log     *slog.Logger
}

// App serves the pages.
type App struct {
	cfg      config.Config
	doctypes []content.Doctype
	version  string
	improved bool
	store    Store
	log      *slog.Logger
	pages    map[string]*template.Template
	css      []byte
	cssTag   string
}

// fallbackDoctype lets a deployment without a model still hold documents.
var fallbackDoctype = content.Doctype{Name: "Document", Fields: []content.Field{{Name: "body", Type: content.Text}}}

// New parses the templates and builds the stylesheet.
func New(o Options) (*App, error) {
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a := &App{cfg: o.Config, doctypes: o.Config.Model.Doctypes, version: o.Version, store: o.Store, log: o.Log, pages: pages}
	if len(a.doctypes) == 0 {
		a.doctypes = []content.Doctype{fallbackDoctype}
	}
	a.improved = majorVersion(o.Version) >= 2
	a.css, a.cssTag = stylesheet(o.Config.Model.Color)
	return a, nil
}

// majorVersion reads the major number of "2.0"; 0 when there is none.
func majorVersion(v string) int {
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}

// Handler returns the route table wrapped in the security headers,
// cross-origin protection and the access log.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.HandleFunc("GET /app.css", a.serveCSS)
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /documents", a.create)
	mux.HandleFunc("GET /documents/{id}", a.document)
	mux.HandleFunc("POST /documents/{id}", a.update)
	mux.HandleFunc("POST /documents/{id}/comments", a.need(content.Comments, a.comment))
	mux.HandleFunc("POST /documents/{id}/transition", a.need(content.Workflow, a.transition))
	mux.HandleFunc("GET /search", a.need(content.Search, a.search))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.errorPage(w, r, http.StatusNotFound, "Not found", "There is no page at this address.")
	})
	cop := http.NewCrossOriginProtection()
	return a.logRequests(securityHeaders(cop.Handler(mux)))
}

func (a *App) need(component string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.cfg.Components.Has(component) {
			a.errorPage(w, r, http.StatusNotFound, "Not found", "The "+component+" component is not enabled.")
			return
		}
		h(w, r)
	}
}

// ready answers 200 only when the store answers too.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "store unavailable")
		return
	}
	fmt.Fprintln(w, "ready")
}

// maxForm bounds a posted form; the largest real one is a few kilobytes.
const maxForm = 1 << 20

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// logRequests logs every request but the probes, which would drown the log.
func (a *App) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug
		}
		a.log.Log(r.Context(), level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
	})
}
