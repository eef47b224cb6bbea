// Package content holds contentapp's domain: the application model (document
// types and their typed fields), documents, comments, versions, the workflow
// and the component ids. It depends on nothing but apperr.
package content

import (
	"fmt"
	"regexp"
	"strings"

	"appfactory/apperr"
)

// FieldType is the type of one field of a document type.
type FieldType string

// The field types a model may use.
const (
	Text    FieldType = "text"
	Number  FieldType = "number"
	Date    FieldType = "date"
	Boolean FieldType = "boolean"
	Choice  FieldType = "choice"
)

// Field is one typed field of a document type.
type Field struct {
	Name    string    `json:"name"`
	Type    FieldType `json:"type"`
	Choices []string  `json:"choices,omitempty"`
}

// Doctype is a document type of the application model.
type Doctype struct {
	Name   string  `json:"name"`
	Fields []Field `json:"fields"`
}

// Model is the application model the factory bakes into the image.
type Model struct {
	Title    string    `json:"title"`
	Color    string    `json:"color"`
	Doctypes []Doctype `json:"doctypes"`
}

// Defaults used when the image carries no model.
const (
	DefaultTitle = "Content App"
	DefaultColor = "#3355aa"
)

// Limits on the model, so that a model cannot make pages or rows unbounded.
const (
	MaxTitle    = 200
	maxNameLen  = 64
	maxDoctypes = 50
	maxFields   = 50
	maxChoices  = 100
)

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ValidColor reports whether c is a #RRGGBB colour: the only form allowed
// into the generated stylesheet.
func ValidColor(c string) bool { return colorRE.MatchString(c) }

// Validate checks the structure of the model: names present and unique per
// level, known field types, choice fields with choices.
func (m Model) Validate() error {
	if len(m.Title) > MaxTitle {
		return apperr.FieldError(apperr.Unprocessable, "title", "The title is longer than %d characters.", MaxTitle)
	}
	if m.Color != "" && !ValidColor(m.Color) {
		return apperr.FieldError(apperr.Unprocessable, "color", "The colour %q is not of the form #RRGGBB.", m.Color)
	}
	if len(m.Doctypes) > maxDoctypes {
		return apperr.FieldError(apperr.Unprocessable, "doctypes", "A model holds at most %d document types.", maxDoctypes)
	}
	seen := map[string]bool{}
	for i, d := range m.Doctypes {
		where := fmt.Sprintf("doctypes[%d]", i)
		if err := checkName(d.Name, where); err != nil {
			return err
		}
		if seen[d.Name] {
			return apperr.FieldError(apperr.Unprocessable, where, "The document type %q appears twice.", d.Name)
		}
		seen[d.Name] = true
		if err := d.validate(where); err != nil {
			return err
		}
	}
	return nil
}

func (d Doctype) validate(where string) error {
	if len(d.Fields) > maxFields {
		return apperr.FieldError(apperr.Unprocessable, where, "A document type holds at most %d fields.", maxFields)
	}
	seen := map[string]bool{}
	for j, f := range d.Fields {
		fw := fmt.Sprintf("%s.fields[%d]", where, j)
		if err := checkName(f.Name, fw); err != nil {
			return err
		}
		if f.Name == "title" || seen[f.Name] {
			return apperr.FieldError(apperr.Unprocessable, fw, "The field name %q is taken in %q.", f.Name, d.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case Text, Number, Date, Boolean:
		case Choice:
			if len(f.Choices) == 0 || len(f.Choices) > maxChoices {
				return apperr.FieldError(apperr.Unprocessable, fw, "The choice field %q needs 1 to %d choices.", f.Name, maxChoices)
			}
			for _, c := range f.Choices {
				if strings.TrimSpace(c) == "" || len(c) > MaxTitle {
					return apperr.FieldError(apperr.Unprocessable, fw, "The choice field %q has an empty or overlong choice.", f.Name)
				}
			}
		default:
			return apperr.FieldError(apperr.Unprocessable, fw, "The field %q has unknown type %q.", f.Name, f.Type)
		}
	}
	return nil
}

func checkName(name, where string) error {
	if strings.TrimSpace(name) == "" {
		return apperr.FieldError(apperr.Unprocessable, where, "A name is missing.")
	}
	if len(name) > maxNameLen || strings.TrimSpace(name) != name {
		return apperr.FieldError(apperr.Unprocessable, where, "The name %q is too long or has surrounding spaces.", name)
	}
	return nil
}

// Doctype returns the document type called name.
func (m Model) Doctype(name string) (Doctype, bool) {
	for _, d := range m.Doctypes {
		if d.Name == name {
			return d, true
		}
	}
	return Doctype{}, false
}
