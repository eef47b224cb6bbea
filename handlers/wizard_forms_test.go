package handlers

import (
	"net/url"
	"strings"
	"testing"

	"appfactory/catalog"
	"appfactory/domain"
)

func TestParseModelForm(t *testing.T) {
	form := url.Values{
		"title": {"  Desk "}, "color": {"#aabbcc"},
		"doctypes[7].name":              {"Second"},
		"doctypes[2].name":              {" First "},
		"doctypes[2].fields[5].name":    {"b"},
		"doctypes[2].fields[5].type":    {"choice"},
		"doctypes[2].fields[5].choices": {" x, ,y ,"},
		"doctypes[2].fields[1].name":    {"a"},
		"doctypes[2].fields[1].type":    {"text"},
		"doctypes[2].fields[1].choices": {"ignored"},
		"doctypes[1234].name":           {"too deep an index"},
		"doctypes[x].name":              {"no index"},
	}
	m := parseModelForm(form)
	if m.Title != "Desk" || m.Color != "#aabbcc" || len(m.Doctypes) != 2 {
		t.Fatalf("model %+v", m)
	}
	d := m.Doctypes[0]
	if d.Name != "First" || len(d.Fields) != 2 || d.Fields[0].Name != "a" || d.Fields[0].Choices != nil ||
		d.Fields[1].Name != "b" || strings.Join(d.Fields[1].Choices, "|") != "x|y" {
		t.Errorf("first doctype %+v", d)
	}
	if m.Doctypes[1].Name != "Second" || len(m.Doctypes[1].Fields) != 0 {
		t.Errorf("second doctype %+v", m.Doctypes[1])
	}
}

func TestApplyModelOp(t *testing.T) {
	schema := catalog.ModelSchema{FieldTypes: catalog.FieldTypes(), MaxDoctypes: 2, MaxFields: 2, MaxChoices: 5}
	m := domain.Model{}
	for _, tc := range []struct {
		op   string
		want string // doctypes as "fields per doctype"
	}{
		{"add-doctype", "1"},
		{"add-field:0", "2"},
		{"add-field:0", "2"}, // at the limit
		{"add-doctype", "2,1"},
		{"add-doctype", "2,1"}, // at the limit
		{"remove-field:0:1", "1,1"},
		{"remove-field:0:9", "1,1"},
		{"remove-doctype:5", "1,1"},
		{"remove-doctype:-1", "1,1"},
		{"add-field:x", "1,1"},
		{"remove-doctype:0", "1"},
		{"nonsense", "1"},
	} {
		applyModelOp(&m, tc.op, schema)
		var got []string
		for _, d := range m.Doctypes {
			got = append(got, string(rune('0'+len(d.Fields))))
		}
		if strings.Join(got, ",") != tc.want {
			t.Fatalf("after %s: %v, want %s", tc.op, got, tc.want)
		}
	}
}

// FuzzParseModelForm feeds the editor's parser any form: it must not
// panic, and indices only order what comes back.
func FuzzParseModelForm(f *testing.F) {
	f.Add("title=A&doctypes[0].name=Doc&doctypes[0].fields[0].name=f&doctypes[0].fields[0].type=choice&doctypes[0].fields[0].choices=a,b")
	f.Add("doctypes[999].fields[999].name=x&doctypes[0].name=")
	f.Add("doctypes%5B1%5D.name=x&op=add-doctype")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		m := parseModelForm(form)
		if len(m.Doctypes) > len(form) {
			t.Fatalf("%d doctypes from %d keys", len(m.Doctypes), len(form))
		}
		for _, d := range m.Doctypes {
			for _, fl := range d.Fields {
				if fl.Type != "choice" && fl.Choices != nil {
					t.Fatalf("choices on a %q field", fl.Type)
				}
			}
		}
		applyModelOp(&m, form.Get("op"), catalog.ModelSchema{MaxDoctypes: 3, MaxFields: 3})
	})
}

func TestComponentChoices(t *testing.T) {
	cat, err := catalog.Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cat.Platform("contentapp")
	for _, tc := range []struct {
		name, version string
		selected      []string
		effective     string
		states        map[string]string // id -> checked/locked/disabled/free
	}{
		{"requirement added and locked", "2.0", []string{"workflow"}, "versioning,workflow",
			map[string]string{"versioning": "locked", "workflow": "checked", "comments": "free"}},
		{"conflict disabled both ways", "2.0", []string{"export"}, "export",
			map[string]string{"audit": "disabled", "export": "checked"}},
		{"transitive through audit", "2.0", []string{"audit"}, "versioning,audit",
			map[string]string{"versioning": "locked", "export": "disabled"}},
		{"unsupported dropped", "1.0", []string{"search", "comments", "nope"}, "comments",
			map[string]string{"search": "disabled", "comments": "checked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, eff := componentChoices(p, tc.version, tc.selected)
			if strings.Join(eff, ",") != tc.effective {
				t.Errorf("selection %v, want %s", eff, tc.effective)
			}
			for _, it := range items {
				want, ok := tc.states[it.ID]
				if !ok {
					continue
				}
				got := "free"
				switch {
				case it.Locked:
					got = "locked"
				case it.Disabled:
					got = "disabled"
				case it.Checked:
					got = "checked"
				}
				if got != want {
					t.Errorf("%s is %s (%s), want %s", it.ID, got, it.Note, want)
				}
			}
		})
	}
}
