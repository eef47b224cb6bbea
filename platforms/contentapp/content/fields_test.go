package content

import (
	"encoding/json"
	"errors"
	"testing"

	"appfactory/apperr"
)

func testModel() Model {
	return Model{Title: "Acme Docs", Color: "#aa3355", Doctypes: []Doctype{{
		Name: "Contract",
		Fields: []Field{
			{Name: "party", Type: Text},
			{Name: "amount", Type: Number},
			{Name: "signed", Type: Date},
			{Name: "active", Type: Boolean},
			{Name: "kind", Type: Choice, Choices: []string{"nda", "msa"}},
		},
	}}}
}

func TestCheckDocument(t *testing.T) {
	m := testModel()
	tests := []struct {
		name      string
		model     Model
		doctype   string
		title     string
		fields    map[string]any
		want      map[string]any
		wantField string
	}{
		{"all types", m, "Contract", " Deal ", map[string]any{"party": "Bob", "amount": 12.5, "signed": "2024-02-29", "active": true, "kind": "nda"},
			map[string]any{"party": "Bob", "amount": 12.5, "signed": "2024-02-29", "active": true, "kind": "nda"}, ""},
		{"strings from a form", m, "Contract", "Deal", map[string]any{"amount": " 3 ", "active": "on", "party": "  "},
			map[string]any{"amount": 3.0, "active": true}, ""},
		{"json number", m, "Contract", "Deal", map[string]any{"amount": json.Number("7")}, map[string]any{"amount": 7.0}, ""},
		{"nil dropped", m, "Contract", "Deal", map[string]any{"party": nil}, map[string]any{}, ""},
		{"no title", m, "Contract", "  ", nil, nil, "title"},
		{"long title", m, "Contract", string(make([]byte, MaxTitle+1)), nil, nil, "title"},
		{"unknown doctype", m, "Memo", "x", nil, nil, "doctype"},
		{"unknown field", m, "Contract", "x", map[string]any{"color": "red"}, nil, "color"},
		{"bad number", m, "Contract", "x", map[string]any{"amount": "twelve"}, nil, "amount"},
		{"nan", m, "Contract", "x", map[string]any{"amount": "NaN"}, nil, "amount"},
		{"bad date", m, "Contract", "x", map[string]any{"signed": "2023-02-29"}, nil, "signed"},
		{"bad boolean", m, "Contract", "x", map[string]any{"active": "maybe"}, nil, "active"},
		{"bad choice", m, "Contract", "x", map[string]any{"kind": "lease"}, nil, "kind"},
		{"text not string", m, "Contract", "x", map[string]any{"party": 3.0}, nil, "party"},
		{"free model", Model{}, "Note", "x", map[string]any{"body": "hi", "n": 2.0, "ok": false}, map[string]any{"body": "hi", "n": 2.0, "ok": false}, ""},
		{"free model object", Model{}, "Note", "x", map[string]any{"body": map[string]any{}}, nil, "body"},
		{"free model no doctype", Model{}, "", "x", nil, nil, "doctype"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := tt.model.CheckDocument(tt.doctype, tt.title, tt.fields)
			if tt.wantField != "" {
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Code != apperr.Unprocessable {
					t.Fatalf("err = %v, want unprocessable", err)
				}
				if ae.Field != tt.wantField {
					t.Fatalf("field = %q, want %q", ae.Field, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if string(gb) != string(wb) {
				t.Fatalf("fields = %s, want %s", gb, wb)
			}
		})
	}
}

func TestModelValidate(t *testing.T) {
	tests := []struct {
		name string
		m    Model
		ok   bool
	}{
		{"good", testModel(), true},
		{"empty", Model{}, true},
		{"bad colour", Model{Color: "red"}, false},
		{"duplicate doctype", Model{Doctypes: []Doctype{{Name: "A"}, {Name: "A"}}}, false},
		{"unnamed doctype", Model{Doctypes: []Doctype{{Name: " "}}}, false},
		{"duplicate field", Model{Doctypes: []Doctype{{Name: "A", Fields: []Field{{Name: "x", Type: Text}, {Name: "x", Type: Text}}}}}, false},
		{"field called title", Model{Doctypes: []Doctype{{Name: "A", Fields: []Field{{Name: "title", Type: Text}}}}}, false},
		{"unknown type", Model{Doctypes: []Doctype{{Name: "A", Fields: []Field{{Name: "x", Type: "blob"}}}}}, false},
		{"choice without choices", Model{Doctypes: []Doctype{{Name: "A", Fields: []Field{{Name: "x", Type: Choice}}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestWorkflow(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{Draft, Review, true}, {Review, Published, true}, {Review, Draft, true}, {Published, Draft, true},
		{Draft, Published, false}, {Published, Review, false}, {Draft, Draft, false}, {"x", Draft, false},
	}
	for _, tt := range tests {
		t.Run(tt.from+"->"+tt.to, func(t *testing.T) {
			if got := CanTransition(tt.from, tt.to); got != tt.ok {
				t.Fatalf("CanTransition = %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestCommentCheck(t *testing.T) {
	c, err := CommentInput{Author: " ", Body: " hi "}.Check()
	if err != nil || c.Author != "anonymous" || c.Body != "hi" {
		t.Fatalf("Check = %+v, %v", c, err)
	}
	if _, err := (CommentInput{Body: " "}).Check(); apperr.Code(err) != apperr.Unprocessable {
		t.Fatalf("empty body: %v", err)
	}
}

func FuzzCheckDocument(f *testing.F) {
	f.Add("Contract", "Deal", `{"amount":"1e3","active":"on","kind":"nda","signed":"2026-01-31"}`)
	f.Add("Contract", "", `{"party":null}`)
	f.Add("Memo", "x", `{"x":[1,2]}`)
	f.Add("Contract", "x", `{"amount":1e400}`)
	m := testModel()
	f.Fuzz(func(t *testing.T, doctype, title, fieldsJSON string) {
		var fields map[string]any
		if json.Unmarshal([]byte(fieldsJSON), &fields) != nil {
			return
		}
		for _, model := range []Model{m, {}} {
			gotTitle, got, err := model.CheckDocument(doctype, title, fields)
			if err != nil {
				if apperr.Code(err) != apperr.Unprocessable {
					t.Fatalf("error code %q: %v", apperr.Code(err), err)
				}
				continue
			}
			if gotTitle == "" || len(gotTitle) > MaxTitle {
				t.Fatalf("accepted title %q", gotTitle)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Fatalf("accepted fields do not encode: %v", err)
			}
		}
	})
}
