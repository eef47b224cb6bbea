package storeapi

import (
	"log/slog"
	"net/http"
	"strconv"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
	"appfactory/platforms/contentapp/docstore"
)

// listLimit is the default and the largest page of a list or search.
const listLimit = 100

// Server answers the store API for one database and configuration.
type Server struct {
	db      *docstore.DB
	model   content.Model
	comps   content.Components
	version string
	log     *slog.Logger
}

// NewServer returns the store API; comps decides which optional routes work.
func NewServer(db *docstore.DB, model content.Model, comps content.Components, version string, log *slog.Logger) *Server {
	return &Server{db: db, model: model, comps: comps, version: version, log: log}
}

// Handler returns the route table.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("GET /documents", s.list)
	mux.HandleFunc("POST /documents", s.create)
	mux.HandleFunc("GET /documents/{id}", s.get)
	mux.HandleFunc("PUT /documents/{id}", s.update)
	mux.HandleFunc("GET /documents/{id}/versions", s.need(content.Versioning, s.versions))
	mux.HandleFunc("GET /documents/{id}/comments", s.need(content.Comments, s.comments))
	mux.HandleFunc("POST /documents/{id}/comments", s.need(content.Comments, s.addComment))
	mux.HandleFunc("POST /documents/{id}/transition", s.need(content.Workflow, s.transition))
	mux.HandleFunc("GET /search", s.need(content.Search, s.search))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, apperr.New(apperr.NotFound, "No such route."))
	})
	return mux
}

// need answers 404 for the routes of a component that is not enabled.
func (s *Server) need(component string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.comps.Has(component) {
			writeError(w, r, s.log, apperr.New(apperr.NotFound, "The %s component is not enabled.", component))
			return
		}
		h(w, r)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if err := s.db.Ping(r.Context()); err != nil {
		writeError(w, r, s.log, apperr.New(apperr.Unavailable, "The database does not answer."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version})
}

func limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return listLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > listLimit {
		return 0, apperr.FieldError(apperr.Invalid, "limit", "limit must be a number from 1 to %d.", listLimit)
	}
	return n, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	doctype := r.URL.Query().Get("doctype")
	list, err := s.db.Documents(r.Context(), doctype, n)
	if err == nil && doctype == "" {
		list.ByDoctype, err = s.db.CountByDoctype(r.Context())
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var in content.DocumentInput
	if err := decode(w, r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	title, fields, err := s.model.CheckDocument(in.Doctype, in.Title, in.Fields)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	d, err := s.db.CreateDocument(r.Context(), in.Doctype, title, fields)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/documents/"+d.ID)
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	d, err := s.db.Document(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var in content.DocumentInput
	if err := decode(w, r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	cur, err := s.db.Document(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if in.Doctype != "" && in.Doctype != cur.Doctype {
		writeError(w, r, s.log, apperr.FieldError(apperr.Unprocessable, "doctype", "The document type of a document cannot change."))
		return
	}
	title, fields, err := s.model.CheckDocument(cur.Doctype, in.Title, in.Fields)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	d, err := s.db.UpdateDocument(r.Context(), cur.ID, title, fields, in.Version, s.comps.Has(content.Versioning))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.db.Versions(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (s *Server) comments(w http.ResponseWriter, r *http.Request) {
	cs, err := s.db.Comments(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"comments": cs})
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request) {
	var in content.CommentInput
	if err := decode(w, r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in, err := in.Check()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	c, err := s.db.AddComment(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) transition(w http.ResponseWriter, r *http.Request) {
	var in content.TransitionInput
	if err := decode(w, r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	d, err := s.db.Transition(r.Context(), r.PathValue("id"), in.To)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		writeError(w, r, s.log, apperr.FieldError(apperr.Invalid, "q", "The search is longer than 200 characters."))
		return
	}
	n, err := limit(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	docs, err := s.db.Search(r.Context(), q, n)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": docs, "query": q})
}
