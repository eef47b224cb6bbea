package views

import (
	"fmt"
	"strconv"

	"github.com/a-h/templ"
)

func progressClass(w Wizard, n int) string {
	switch {
	case n == w.Step:
		return "current"
	case n < w.Step:
		return "done"
	}
	return ""
}

func progressAttrs(w Wizard, n int) templ.Attributes {
	if n == w.Step {
		return templ.Attributes{"aria-current": "step"}
	}
	return templ.Attributes{}
}

func formEnctype(multipart bool) templ.Attributes {
	if multipart {
		return templ.Attributes{"enctype": "multipart/form-data"}
	}
	return templ.Attributes{}
}

func nextLabel(step int) string {
	if step >= StepCount-1 {
		return "Next: Review"
	}
	return "Next: " + StepTitle(step+1)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Names of the model editor's inputs: doctypes[i].name and
// doctypes[i].fields[j].name|type|choices.

// DoctypeInput is the form name of a document type's attribute.
func DoctypeInput(i int, attr string) string { return fmt.Sprintf("doctypes[%d].%s", i, attr) }

// FieldInput is the form name of a field's attribute.
func FieldInput(i, j int, attr string) string {
	return fmt.Sprintf("doctypes[%d].fields[%d].%s", i, j, attr)
}

func dtName(i int, attr string) string   { return DoctypeInput(i, attr) }
func dtKey(i int, attr string) string    { return "model." + DoctypeInput(i, attr) }
func dtID(i int, attr string) string     { return fmt.Sprintf("dt-%d-%s", i, attr) }
func fName(i, j int, attr string) string { return FieldInput(i, j, attr) }
func fKey(i, j int, attr string) string  { return "model." + FieldInput(i, j, attr) }
func fID(i, j int, attr string) string   { return fmt.Sprintf("dt-%d-f-%d-%s", i, j, attr) }
func fLabel(i, j int) string             { return fmt.Sprintf("(document type %d, field %d)", i+1, j+1) }
func maxAttr(n int) string               { return strconv.Itoa(max(n, 1)) }
func op(name string, i, j int) string {
	if j < 0 {
		return fmt.Sprintf("%s:%d", name, i)
	}
	return fmt.Sprintf("%s:%d:%d", name, i, j)
}

func replicasInvalid(r ReplicasField) templ.Attributes {
	if r.Error != "" {
		return templ.Attributes{"aria-invalid": "true", "aria-describedby": errID("replicas")}
	}
	return templ.Attributes{}
}

func fieldTypeText(f FieldSummary) string {
	if f.Type == "choice" && len(f.Choices) > 0 {
		s := "choice of "
		for i, c := range f.Choices {
			if i > 0 {
				s += ", "
			}
			s += c
		}
		return s
	}
	return f.Type
}
