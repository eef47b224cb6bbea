package handlers

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/views"
)

// The model editor's inputs are named doctypes[i].name and
// doctypes[i].fields[j].name|type|choices (views.DoctypeInput, FieldInput).
var (
	doctypeInput = regexp.MustCompile(`^doctypes\[(\d{1,3})\]\.name$`)
	fieldInput   = regexp.MustCompile(`^doctypes\[(\d{1,3})\]\.fields\[(\d{1,3})\]\.(name|type|choices)$`)
)

// parseModelForm reads step 4's form. Indices only order the entries: the
// lists come back dense, in the order the inputs were numbered. Choices are
// kept for choice fields only, split at commas.
func parseModelForm(form url.Values) domain.Model {
	type field struct{ name, typ, choices string }
	type doctype struct {
		name   string
		fields map[int]*field
	}
	dts := map[int]*doctype{}
	get := func(i int) *doctype {
		if dts[i] == nil {
			dts[i] = &doctype{fields: map[int]*field{}}
		}
		return dts[i]
	}
	for key, vals := range form {
		if len(vals) == 0 {
			continue
		}
		if m := doctypeInput.FindStringSubmatch(key); m != nil {
			i, _ := strconv.Atoi(m[1])
			get(i).name = vals[0]
		} else if m := fieldInput.FindStringSubmatch(key); m != nil {
			i, _ := strconv.Atoi(m[1])
			j, _ := strconv.Atoi(m[2])
			d := get(i)
			if d.fields[j] == nil {
				d.fields[j] = &field{}
			}
			switch m[3] {
			case "name":
				d.fields[j].name = vals[0]
			case "type":
				d.fields[j].typ = vals[0]
			case "choices":
				d.fields[j].choices = vals[0]
			}
		}
	}
	m := domain.Model{Title: strings.TrimSpace(form.Get("title")), Color: strings.TrimSpace(form.Get("color")), Doctypes: []domain.Doctype{}}
	for _, i := range sortedKeys(dts) {
		d := dts[i]
		md := domain.Doctype{Name: strings.TrimSpace(d.name), Fields: []domain.Field{}}
		for _, j := range sortedKeys(d.fields) {
			f := d.fields[j]
			mf := domain.Field{Name: strings.TrimSpace(f.name), Type: f.typ}
			if f.typ == "choice" {
				mf.Choices = splitChoices(f.choices)
			}
			md.Fields = append(md.Fields, mf)
		}
		m.Doctypes = append(m.Doctypes, md)
	}
	return m
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func splitChoices(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// applyModelOp adds or removes a document type or field: "add-doctype",
// "remove-doctype:I", "add-field:I", "remove-field:I:J". Adding stops at the
// schema's limits; an op that names nothing is ignored.
func applyModelOp(m *domain.Model, op string, schema catalog.ModelSchema) {
	name, args, _ := strings.Cut(op, ":")
	var idx []int
	for _, a := range strings.Split(args, ":") {
		if n, err := strconv.Atoi(a); err == nil && n >= 0 {
			idx = append(idx, n)
		}
	}
	has := func(n int) bool { return len(idx) >= n && idx[0] < len(m.Doctypes) }
	switch name {
	case "add-doctype":
		if len(m.Doctypes) < schema.MaxDoctypes {
			m.Doctypes = append(m.Doctypes, domain.Doctype{Fields: []domain.Field{{Type: "text"}}})
		}
	case "remove-doctype":
		if has(1) {
			m.Doctypes = append(m.Doctypes[:idx[0]], m.Doctypes[idx[0]+1:]...)
		}
	case "add-field":
		if has(1) && len(m.Doctypes[idx[0]].Fields) < schema.MaxFields {
			m.Doctypes[idx[0]].Fields = append(m.Doctypes[idx[0]].Fields, domain.Field{Type: "text"})
		}
	case "remove-field":
		if has(2) && idx[1] < len(m.Doctypes[idx[0]].Fields) {
			fs := m.Doctypes[idx[0]].Fields
			m.Doctypes[idx[0]].Fields = append(fs[:idx[1]], fs[idx[1]+1:]...)
		}
	}
}

// modelForm is the editor's view of a model.
func modelForm(m domain.Model, schema catalog.ModelSchema, action string, errs views.Messages) views.ModelForm {
	f := views.ModelForm{Action: action, Title: m.Title, Color: m.Color, FieldTypes: schema.FieldTypes, Errors: errs,
		CanAddDoctype: len(m.Doctypes) < schema.MaxDoctypes}
	if f.Color == "" {
		f.Color = defaultColor
	}
	for _, d := range m.Doctypes {
		df := views.DoctypeForm{Name: d.Name, CanAddField: len(d.Fields) < schema.MaxFields}
		for _, fl := range d.Fields {
			df.Fields = append(df.Fields, views.FieldForm{Name: fl.Name, Type: fl.Type, Choices: strings.Join(fl.Choices, ", ")})
		}
		f.Doctypes = append(f.Doctypes, df)
	}
	return f
}

// formList returns the non-empty values of a repeated form field, once each.
func formList(form url.Values, key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range form[key] {
		if v = strings.TrimSpace(v); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// maxTextLength bounds what a draft keeps of a text typed in the wizard
// before it is validated; validation allows less.
const maxTextLength = 200

// clampText cuts s to n runes.
func clampText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// clampModel bounds a model that is saved unvalidated to the schema's
// limits, so that a draft never grows past what the editor offers.
func clampModel(m domain.Model, schema catalog.ModelSchema) domain.Model {
	m.Title = clampText(m.Title, maxTextLength)
	m.Color = clampText(m.Color, 16)
	if len(m.Doctypes) > schema.MaxDoctypes {
		m.Doctypes = m.Doctypes[:schema.MaxDoctypes]
	}
	for i := range m.Doctypes {
		d := &m.Doctypes[i]
		d.Name = clampText(d.Name, maxTextLength)
		if len(d.Fields) > schema.MaxFields {
			d.Fields = d.Fields[:schema.MaxFields]
		}
		for j := range d.Fields {
			f := &d.Fields[j]
			f.Name, f.Type = clampText(f.Name, maxTextLength), clampText(f.Type, 20)
			if len(f.Choices) > schema.MaxChoices {
				f.Choices = f.Choices[:schema.MaxChoices]
			}
			for k := range f.Choices {
				f.Choices[k] = clampText(f.Choices[k], maxTextLength)
			}
		}
	}
	return m
}
