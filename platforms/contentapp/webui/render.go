package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
)

// page is what the layout needs of every page.
type page struct {
	// Root leads from the current URL back to the app's root ("./",
	// "../"), so links stay relative whatever host and port serve them.
	Root      string
	AppTitle  string
	PageTitle string
	Version   string
	SearchOn  bool
	Query     string
	Notice    string
}

// rootOf returns the relative way from path back to "/".
func rootOf(path string) string {
	depth := strings.Count(strings.TrimPrefix(path, "/"), "/")
	if depth == 0 {
		return "./"
	}
	return strings.Repeat("../", depth)
}

func (a *App) page(r *http.Request, title string) page {
	return page{
		Root:      rootOf(r.URL.Path),
		AppTitle:  a.cfg.Model.Title,
		PageTitle: title,
		Version:   a.version,
		SearchOn:  a.cfg.Components.Has(content.Search),
	}
}

var funcs = template.FuncMap{
	"fmtTime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"join":    strings.Join,
	"display": display,
}

// parsePages parses each page template together with the layout and the
// shared partials.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/forms.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "document", "search", "error"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a page whole, or a 500 if the template fails, so a
// half-written page never goes out.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var b bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&b, "layout", data); err != nil {
		a.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

type errorView struct {
	page
	Heading string
	Message string
}

func (a *App) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	a.render(w, r, status, "error", errorView{page: a.page(r, heading), Heading: heading, Message: msg})
}

// fail shows the error page that fits err; details go to the log.
func (a *App) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := apperr.Code(err)
	switch code {
	case apperr.NotFound:
		a.errorPage(w, r, http.StatusNotFound, "Not found", apperr.Message(err))
	case apperr.Unavailable:
		a.log.Warn("store unavailable", "path", r.URL.Path, "err", err)
		a.errorPage(w, r, http.StatusServiceUnavailable, "Unavailable", apperr.Message(err))
	default:
		a.log.Error("request failed", "path", r.URL.Path, "err", err)
		a.errorPage(w, r, http.StatusInternalServerError, "Error", "Something went wrong; try again.")
	}
}

// redirect answers a POST with 303 to target (an app path like
// "/documents/x"), written relative to the request's URL.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Location", rootOf(r.URL.Path)+strings.TrimPrefix(target, "/"))
	w.WriteHeader(http.StatusSeeOther)
}
