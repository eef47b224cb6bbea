package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"appfactory/apperr"
	"appfactory/domain"
)

// Limits of a model that do not depend on the platform.
const (
	MaxTitleLength  = 80
	MaxChoiceLength = 60
)

var (
	colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	// Doctype and field names become labels, identifiers and JSON keys in
	// the platform: letters first, then letters, digits, spaces, _ and -.
	modelNamePattern = regexp.MustCompile(`^\p{L}[\p{L}\p{N} _-]{0,39}$`)
)

// Validate returns every problem of an application model, each naming its field
// ("model.doctypes[0].fields[1].type").
func (s ModelSchema) Validate(m domain.Model) []*apperr.Error {
	var errs []*apperr.Error
	add := func(field, format string, args ...any) {
		errs = append(errs, unprocessable(field, format, args...))
	}
	title := strings.TrimSpace(m.Title)
	switch {
	case utf8.RuneCountInString(title) > MaxTitleLength:
		add("model.title", "The title can be at most %d characters long.", MaxTitleLength)
	case !utf8.ValidString(title) || strings.IndexFunc(title, unicode.IsControl) >= 0:
		add("model.title", "The title cannot hold control characters.")
	}
	if m.Color != "" && !colorPattern.MatchString(m.Color) {
		add("model.color", "The colour must look like #1A2B3C.")
	}
	if len(m.Doctypes) > s.MaxDoctypes {
		add("model.doctypes", "At most %d document types.", s.MaxDoctypes)
		return errs
	}
	seen := map[string]bool{}
	for i, d := range m.Doctypes {
		path := fmt.Sprintf("model.doctypes[%d]", i)
		if msg := checkModelName(d.Name, "document type"); msg != "" {
			add(path+".name", "Document type %d: %s", i+1, msg)
		} else if key := strings.ToLower(d.Name); seen[key] {
			add(path+".name", "There are two document types named %q.", d.Name)
		} else {
			seen[key] = true
		}
		errs = append(errs, s.validateFields(d, path)...)
	}
	return errs
}

func (s ModelSchema) validateFields(d domain.Doctype, path string) []*apperr.Error {
	var errs []*apperr.Error
	add := func(field, format string, args ...any) {
		errs = append(errs, unprocessable(field, format, args...))
	}
	label := d.Name
	if label == "" {
		label = "this document type"
	}
	if len(d.Fields) > s.MaxFields {
		add(path+".fields", "%s can have at most %d fields.", label, s.MaxFields)
		return errs
	}
	seen := map[string]bool{}
	for j, f := range d.Fields {
		fp := fmt.Sprintf("%s.fields[%d]", path, j)
		if msg := checkModelName(f.Name, "field"); msg != "" {
			add(fp+".name", "Field %d of %s: %s", j+1, label, msg)
		} else if key := strings.ToLower(f.Name); seen[key] {
			add(fp+".name", "%s has two fields named %q.", label, f.Name)
		} else {
			seen[key] = true
		}
		switch {
		case f.Type == "":
			add(fp+".type", "Choose a type for field %q.", f.Name)
		case !slices.Contains(s.FieldTypes, f.Type):
			add(fp+".type", "Field %q: unknown type %q (choose %s).", f.Name, f.Type, strings.Join(s.FieldTypes, ", "))
		case f.Type == "choice":
			if msg := s.checkChoices(f.Choices); msg != "" {
				add(fp+".choices", "Field %q: %s", f.Name, msg)
			}
		case len(f.Choices) > 0:
			add(fp+".choices", "Field %q: only choice fields have options.", f.Name)
		}
	}
	return errs
}

func checkModelName(name, what string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "give it a name."
	case name != strings.TrimSpace(name) || strings.Contains(name, "  "):
		return "no spaces at the start or end, nor two in a row."
	case !modelNamePattern.MatchString(name):
		return fmt.Sprintf("a %s name starts with a letter and holds up to 40 letters, digits, spaces, _ or -.", what)
	}
	return ""
}

func (s ModelSchema) checkChoices(choices []string) string {
	if len(choices) == 0 {
		return "a choice field needs at least one option."
	}
	if len(choices) > s.MaxChoices {
		return fmt.Sprintf("at most %d options.", s.MaxChoices)
	}
	seen := map[string]bool{}
	for _, c := range choices {
		t := strings.TrimSpace(c)
		switch {
		case t == "":
			return "an option is empty."
		case utf8.RuneCountInString(t) > MaxChoiceLength || strings.IndexFunc(t, unicode.IsControl) >= 0:
			return fmt.Sprintf("options are at most %d characters, without control characters.", MaxChoiceLength)
		case seen[strings.ToLower(t)]:
			return fmt.Sprintf("option %q is listed twice.", t)
		}
		seen[strings.ToLower(t)] = true
	}
	return ""
}
