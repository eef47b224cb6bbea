package content

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"appfactory/apperr"
)

// MaxText is the longest text value (and comment body) accepted, in bytes.
const MaxText = 10000

// DateLayout is how date fields are written: the value of an HTML date input.
const DateLayout = "2006-01-02"

// CheckDocument validates a new or changed document against the model and
// returns its trimmed title and normalised fields: numbers as float64,
// booleans as bool, dates and choices as strings; empty values dropped.
// A model without document types accepts any type name and plain values,
// so the platform is usable before anyone has designed a model.
func (m Model) CheckDocument(doctype, title string, fields map[string]any) (string, map[string]any, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return "", nil, apperr.FieldError(apperr.Unprocessable, "title", "A title is required.")
	}
	if len(title) > MaxTitle {
		return "", nil, apperr.FieldError(apperr.Unprocessable, "title", "The title is longer than %d characters.", MaxTitle)
	}
	if len(m.Doctypes) == 0 {
		if err := checkName(doctype, "doctype"); err != nil {
			return "", nil, err
		}
		out, err := freeFields(fields)
		return title, out, err
	}
	d, ok := m.Doctype(doctype)
	if !ok {
		return "", nil, apperr.FieldError(apperr.Unprocessable, "doctype", "Unknown document type %q.", doctype)
	}
	out, err := d.Normalize(fields)
	return title, out, err
}

// Normalize checks each value against its field's type.
func (d Doctype) Normalize(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for name, v := range in {
		i := slices.IndexFunc(d.Fields, func(f Field) bool { return f.Name == name })
		if i < 0 {
			return nil, apperr.FieldError(apperr.Unprocessable, name, "Unknown field %q for %q.", name, d.Name)
		}
		nv, err := d.Fields[i].normalize(v)
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[name] = nv
		}
	}
	return out, nil
}

func (f Field) normalize(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		if s = strings.TrimSpace(s); s == "" {
			return nil, nil
		}
	}
	bad := func(what string) error {
		return apperr.FieldError(apperr.Unprocessable, f.Name, "%s must be %s.", f.Name, what)
	}
	switch f.Type {
	case Text:
		s, ok := v.(string)
		if !ok {
			return nil, bad("text")
		}
		if len(s) > MaxText {
			return nil, bad("at most 10000 characters")
		}
		return s, nil
	case Number:
		n, ok := toFloat(v)
		if !ok {
			return nil, bad("a number")
		}
		return n, nil
	case Date:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a date (YYYY-MM-DD)")
		}
		s = strings.TrimSpace(s)
		if _, err := time.Parse(DateLayout, s); err != nil {
			return nil, bad("a date (YYYY-MM-DD)")
		}
		return s, nil
	case Boolean:
		b, ok := toBool(v)
		if !ok {
			return nil, bad("true or false")
		}
		return b, nil
	case Choice:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Choices, s) {
			return nil, bad("one of " + strings.Join(f.Choices, ", "))
		}
		return s, nil
	}
	return nil, bad("of a known type")
}

func toFloat(v any) (float64, bool) {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int:
		n = float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		n = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		n = f
	default:
		return 0, false
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "on", "yes", "1":
			return true, true
		case "false", "off", "no", "0":
			return false, true
		}
	}
	return false, false
}

// freeFields accepts named scalar values, for models without document types.
func freeFields(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for name, v := range in {
		if err := checkName(name, name); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case nil:
		case string:
			if len(x) > MaxText {
				return nil, apperr.FieldError(apperr.Unprocessable, name, "%s must be at most %d characters.", name, MaxText)
			}
			if strings.TrimSpace(x) != "" {
				out[name] = x
			}
		case bool:
			out[name] = x
		default:
			n, ok := toFloat(v)
			if !ok {
				return nil, apperr.FieldError(apperr.Unprocessable, name, "%s must be text, a number or a boolean.", name)
			}
			out[name] = n
		}
	}
	return out, nil
}
