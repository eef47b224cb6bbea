package webui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
)

// formView is a document form (create or edit) with its values and errors.
type formView struct {
	Action     string
	Legend     string
	Submit     string
	IDPrefix   string
	Doctype    string
	Version    int
	Title      string
	TitleError string
	Error      string
	Fields     []fieldView
}

// fieldView is one input of a document form.
type fieldView struct {
	ID        string
	Input     string
	Name      string
	Type      string
	InputType string
	Choices   []string
	Value     string
	Checked   bool
	Error     string
}

// inputName is the form name of a model field; the prefix keeps fields
// apart from the form's own inputs (title, doctype, version).
func inputName(field string) string { return "f." + field }

// newForm builds an empty form for dt.
func newForm(dt content.Doctype, idPrefix, action string) formView {
	f := formView{Action: action, Legend: "New " + dt.Name, Submit: "Create " + dt.Name, IDPrefix: idPrefix, Doctype: dt.Name}
	for i, fd := range dt.Fields {
		fv := fieldView{ID: idPrefix + "-f" + strconv.Itoa(i), Input: inputName(fd.Name), Name: fd.Name, Type: string(fd.Type), Choices: fd.Choices}
		switch fd.Type {
		case content.Number:
			fv.InputType = "number"
		case content.Date:
			fv.InputType = "date"
		default:
			fv.InputType = "text"
		}
		f.Fields = append(f.Fields, fv)
	}
	return f
}

// fill sets the form's values from a stored document.
func (f *formView) fill(d content.Document) {
	f.Title, f.Version = d.Title, d.Version
	for i := range f.Fields {
		v, ok := d.Fields[f.Fields[i].Name]
		if !ok {
			continue
		}
		if b, isBool := v.(bool); isBool {
			f.Fields[i].Checked = b
			continue
		}
		f.Fields[i].Value = display(v)
	}
}

// read parses the posted form into f (so it can be shown again) and into
// the input for the store. Values go to the store as typed text; the store
// is the one place that checks them against the model.
func (f *formView) read(r *http.Request) content.DocumentInput {
	f.Title = r.PostFormValue("title")
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	in := content.DocumentInput{Doctype: f.Doctype, Title: f.Title, Version: f.Version, Fields: map[string]any{}}
	for i := range f.Fields {
		fv := &f.Fields[i]
		if fv.Type == string(content.Boolean) {
			fv.Checked = r.PostFormValue(fv.Input) != ""
			in.Fields[fv.Name] = fv.Checked
			continue
		}
		fv.Value = strings.TrimSpace(r.PostFormValue(fv.Input))
		if fv.Value != "" {
			in.Fields[fv.Name] = fv.Value
		}
	}
	return in
}

// setError shows err at the field it names, or above the form. It reports
// false for errors that are not the user's to fix.
func (f *formView) setError(err error) bool {
	var ae *apperr.Error
	if !errors.As(err, &ae) || (ae.Code != apperr.Unprocessable && ae.Code != apperr.Invalid && ae.Code != apperr.Conflict) {
		return false
	}
	if ae.Field == "title" {
		f.TitleError = ae.Message
		return true
	}
	for i := range f.Fields {
		if f.Fields[i].Name == ae.Field {
			f.Fields[i].Error = ae.Message
			return true
		}
	}
	f.Error = ae.Message
	return true
}

// display formats a stored field value for reading.
func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return ""
}
