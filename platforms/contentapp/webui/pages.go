package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/config"
	"appfactory/platforms/contentapp/content"
)

// homeLimit is how many documents the home page lists.
const homeLimit = 50

type componentView struct {
	ID          string
	Description string
}

type homeView struct {
	page
	Doctypes   []content.Doctype
	Forms      []formView
	Components []componentView
	Custom     []config.Custom
	Docs       []content.Document
	Total      int
	Counts     map[string]int
	ShowCounts bool
	WorkflowOn bool
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.renderHome(w, r, http.StatusOK, nil)
}

// renderHome shows the home page; failed, when set, is a create form that
// was refused and is shown again with its values and errors.
func (a *App) renderHome(w http.ResponseWriter, r *http.Request, status int, failed *formView) {
	v := homeView{
		page:       a.page(r, ""),
		Doctypes:   a.doctypes,
		Custom:     a.cfg.Custom,
		ShowCounts: a.improved,
		WorkflowOn: a.cfg.Components.Has(content.Workflow),
	}
	for _, id := range a.cfg.Components {
		v.Components = append(v.Components, componentView{ID: id, Description: content.Describe(id)})
	}
	for i, dt := range a.doctypes {
		f := newForm(dt, "new"+strconv.Itoa(i), v.Root+"documents")
		if failed != nil && failed.Doctype == dt.Name {
			f = *failed
		}
		v.Forms = append(v.Forms, f)
	}
	list, err := a.store.Documents(r.Context(), homeLimit)
	switch {
	case err == nil:
		v.Docs, v.Total, v.Counts = list.Documents, list.Total, list.ByDoctype
	case apperr.Code(err) == apperr.Unavailable:
		// The model and components still show; only the list is missing.
		a.log.Warn("store unavailable", "path", r.URL.Path, "err", err)
		v.Notice = apperr.Message(err)
		status = http.StatusServiceUnavailable
	default:
		a.fail(w, r, err)
		return
	}
	a.render(w, r, status, "home", v)
}

func (a *App) doctype(name string) (content.Doctype, bool) {
	i := slices.IndexFunc(a.doctypes, func(d content.Doctype) bool { return d.Name == name })
	if i < 0 {
		return content.Doctype{}, false
	}
	return a.doctypes[i], true
}

func (a *App) create(w http.ResponseWriter, r *http.Request) {
	dt, ok := a.doctype(r.PostFormValue("doctype"))
	if !ok {
		a.errorPage(w, r, http.StatusUnprocessableEntity, "Unknown document type", "This application has no such document type.")
		return
	}
	i := slices.IndexFunc(a.doctypes, func(d content.Doctype) bool { return d.Name == dt.Name })
	f := newForm(dt, "new"+strconv.Itoa(i), rootOf(r.URL.Path)+"documents")
	d, err := a.store.CreateDocument(r.Context(), f.read(r))
	if err != nil {
		if f.setError(err) {
			a.renderHome(w, r, http.StatusUnprocessableEntity, &f)
			return
		}
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/documents/"+url.PathEscape(d.ID))
}

type fieldShow struct {
	Name  string
	Value string
}

type documentView struct {
	page
	Doc          content.Document
	Fields       []fieldShow
	Edit         formView
	WorkflowOn   bool
	Next         []string
	VersioningOn bool
	Versions     []content.Version
	CommentsOn   bool
	Comments     []content.Comment
	Comment      content.CommentInput
	CommentError string
}

// refused holds what a refused POST on a document page shows again.
type refused struct {
	Edit         *formView
	Comment      content.CommentInput
	CommentError string
	Notice       string
}

func (a *App) document(w http.ResponseWriter, r *http.Request) {
	a.renderDocument(w, r, http.StatusOK, r.PathValue("id"), refused{})
}

// renderDocument shows a document, with a refused form or action if any.
func (a *App) renderDocument(w http.ResponseWriter, r *http.Request, status int, id string, re refused) {
	ctx := r.Context()
	d, err := a.store.Document(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := documentView{page: a.page(r, d.Title), Doc: d, Comment: re.Comment, CommentError: re.CommentError}
	v.Notice = re.Notice
	dt, known := a.doctype(d.Doctype)
	if !known {
		dt = content.Doctype{Name: d.Doctype}
	}
	for _, f := range dt.Fields {
		if val, ok := d.Fields[f.Name]; ok {
			v.Fields = append(v.Fields, fieldShow{Name: f.Name, Value: display(val)})
		}
	}
	docPath := v.Root + "documents/" + url.PathEscape(d.ID)
	v.Edit = newForm(dt, "edit", docPath)
	v.Edit.Legend, v.Edit.Submit = "Edit "+dt.Name, "Save"
	v.Edit.fill(d)
	if re.Edit != nil {
		v.Edit = *re.Edit
	}
	if v.WorkflowOn = a.cfg.Components.Has(content.Workflow); v.WorkflowOn {
		v.Next = content.NextStates(d.State)
	}
	if v.VersioningOn = a.cfg.Components.Has(content.Versioning); v.VersioningOn {
		if v.Versions, err = a.store.Versions(ctx, d.ID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	if v.CommentsOn = a.cfg.Components.Has(content.Comments); v.CommentsOn {
		if v.Comments, err = a.store.Comments(ctx, d.ID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	a.render(w, r, status, "document", v)
}

func (a *App) update(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cur, err := a.store.Document(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	dt, ok := a.doctype(cur.Doctype)
	if !ok {
		dt = content.Doctype{Name: cur.Doctype}
	}
	f := newForm(dt, "edit", rootOf(r.URL.Path)+"documents/"+url.PathEscape(id))
	f.Legend, f.Submit = "Edit "+dt.Name, "Save"
	if _, err := a.store.UpdateDocument(r.Context(), id, f.read(r)); err != nil {
		if f.setError(err) {
			a.renderDocument(w, r, statusOf(err), id, refused{Edit: &f})
			return
		}
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/documents/"+url.PathEscape(id))
}

func (a *App) comment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in := content.CommentInput{Author: r.PostFormValue("author"), Body: r.PostFormValue("body")}
	if _, err := a.store.AddComment(r.Context(), id, in); err != nil {
		if c := apperr.Code(err); c == apperr.Unprocessable || c == apperr.Invalid {
			a.renderDocument(w, r, statusOf(err), id, refused{Comment: in, CommentError: apperr.Message(err)})
			return
		}
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/documents/"+url.PathEscape(id))
}

func (a *App) transition(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.store.Transition(r.Context(), id, r.PostFormValue("to")); err != nil {
		if c := apperr.Code(err); c == apperr.Conflict || c == apperr.Unprocessable {
			a.renderDocument(w, r, statusOf(err), id, refused{Notice: apperr.Message(err)})
			return
		}
		a.fail(w, r, err)
		return
	}
	redirect(w, r, "/documents/"+url.PathEscape(id))
}

type searchView struct {
	page
	Results    []content.Document
	WorkflowOn bool
}

func (a *App) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	v := searchView{page: a.page(r, "Search"), WorkflowOn: a.cfg.Components.Has(content.Workflow)}
	v.Query = q
	if q != "" {
		res, err := a.store.Search(r.Context(), q)
		if err != nil {
			if apperr.Code(err) == apperr.Invalid {
				v.Notice = apperr.Message(err)
				a.render(w, r, http.StatusBadRequest, "search", v)
				return
			}
			a.fail(w, r, err)
			return
		}
		v.Results = res
	}
	a.render(w, r, http.StatusOK, "search", v)
}

// statusOf is the status of a refused form: 409 for a conflict, else 422.
func statusOf(err error) int {
	if apperr.Code(err) == apperr.Conflict {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}
