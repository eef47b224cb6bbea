package catalog

import (
	"errors"
	"strings"
	"testing"

	"appfactory/apperr"
	"appfactory/domain"
)

func loadDefault(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func goodAssembly() domain.Assembly {
	return domain.Assembly{
		Name: "Acme", Platform: "contentapp", Version: "2.0",
		Components: []string{"comments", "versioning", "workflow"}, Environment: "demo", Replicas: 2,
		Model: domain.Model{Title: "Acme Docs", Color: "#12abEF", Doctypes: []domain.Doctype{
			{Name: "Invoice", Fields: []domain.Field{{Name: "total", Type: "number"}, {Name: "Due date", Type: "date"},
				{Name: "status", Type: "choice", Choices: []string{"open", "paid"}}}},
			{Name: "Facture reçue", Fields: []domain.Field{{Name: "payée", Type: "boolean"}}},
			{Name: "Note"},
		}},
	}
}

func TestValidate(t *testing.T) {
	c := loadDefault(t)
	for _, tc := range []struct {
		name   string
		change func(a *domain.Assembly)
		forNew bool
		field  string // "" = valid
		msg    string
	}{
		{"good", func(a *domain.Assembly) {}, true, "", ""},
		{"no model at all", func(a *domain.Assembly) { a.Model = domain.Model{} }, true, "", ""},
		{"empty name", func(a *domain.Assembly) { a.Name = "  " }, true, "name", "Give the application a name"},
		{"long name", func(a *domain.Assembly) { a.Name = strings.Repeat("é", 61) }, true, "name", "at most 60"},
		{"60 characters", func(a *domain.Assembly) { a.Name = strings.Repeat("é", 60) }, true, "", ""},
		{"control in name", func(a *domain.Assembly) { a.Name = "a\x00b" }, true, "name", "control"},
		{"no platform", func(a *domain.Assembly) { a.Platform = "" }, true, "platform", "Choose a platform"},
		{"unknown platform", func(a *domain.Assembly) { a.Platform = "nope" }, true, "platform", `Unknown platform "nope"`},
		{"no version", func(a *domain.Assembly) { a.Version = "" }, true, "version", "Choose a version of ContentApp"},
		{"unknown version", func(a *domain.Assembly) { a.Version = "9" }, true, "version", `ContentApp has no version "9"`},
		{"deprecated for a new app", func(a *domain.Assembly) { a.Version = "0.9"; a.Components = nil }, true, "version", "ContentApp 0.9 is deprecated"},
		{"deprecated for an existing app", func(a *domain.Assembly) { a.Version = "0.9"; a.Components = nil }, false, "", ""},
		{"unknown component", func(a *domain.Assembly) { a.Components = []string{"no-such-component"} }, true, "components", `ContentApp has no component "no-such-component"`},
		{"component twice", func(a *domain.Assembly) { a.Components = []string{"comments", "comments"} }, true, "components", "Comments is selected twice"},
		{"component on unsupported version", func(a *domain.Assembly) { a.Version = "1.0"; a.Components = []string{"search"} }, true, "components", "Search is not available on ContentApp 1.0 LTS"},
		{"requires", func(a *domain.Assembly) { a.Components = []string{"workflow"} }, true, "components", "Workflow requires Versioning"},
		{"conflicts", func(a *domain.Assembly) { a.Components = []string{"versioning", "audit", "export"} }, true, "components", "Audit trail conflicts with Export"},
		{"components without platform", func(a *domain.Assembly) { a.Platform = "" }, true, "platform", ""},
		{"custom component twice", func(a *domain.Assembly) { a.Custom = domain.CustomByID([]string{"c1", "c1"}) }, true, "custom_components", "twice"},
		{"no environment", func(a *domain.Assembly) { a.Environment = "" }, true, "environment", "Choose an environment"},
		{"unknown environment", func(a *domain.Assembly) { a.Environment = "staging" }, true, "environment", `Unknown environment "staging"`},
		{"zero replicas", func(a *domain.Assembly) { a.Replicas = 0 }, true, "replicas", "at least 1"},
		{"too many replicas", func(a *domain.Assembly) { a.Environment = "trial"; a.Replicas = 9 }, true, "replicas", "Trial allows at most 1 replica."},
		{"production replicas", func(a *domain.Assembly) { a.Environment = "production"; a.Replicas = 7 }, true, "", ""},
		{"production too many", func(a *domain.Assembly) { a.Environment = "production"; a.Replicas = 8 }, true, "replicas", "at most 7 replicas"},
		{"long title", func(a *domain.Assembly) { a.Model.Title = strings.Repeat("x", 81) }, true, "model.title", "at most 80"},
		{"bad colour", func(a *domain.Assembly) { a.Model.Color = "red" }, true, "model.color", "#1A2B3C"},
		{"short colour", func(a *domain.Assembly) { a.Model.Color = "#123" }, true, "model.color", ""},
		{"empty doctype name", func(a *domain.Assembly) { a.Model.Doctypes[0].Name = "" }, true, "model.doctypes[0].name", "Document type 1: give it a name"},
		{"doctype name charset", func(a *domain.Assembly) { a.Model.Doctypes[1].Name = "<script>" }, true, "model.doctypes[1].name", "starts with a letter"},
		{"doctype name spaces", func(a *domain.Assembly) { a.Model.Doctypes[1].Name = " Note" }, true, "model.doctypes[1].name", "no spaces"},
		{"doctype name digits first", func(a *domain.Assembly) { a.Model.Doctypes[1].Name = "1st" }, true, "model.doctypes[1].name", ""},
		{"duplicate doctype", func(a *domain.Assembly) { a.Model.Doctypes[2].Name = "invoice" }, true, "model.doctypes[2].name", `two document types named "invoice"`},
		{"too many doctypes", func(a *domain.Assembly) { a.Model.Doctypes = make([]domain.Doctype, 11) }, true, "model.doctypes", "At most 10"},
		{"empty field name", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[1].Name = "" }, true, "model.doctypes[0].fields[1].name", "Field 2 of Invoice: give it a name"},
		{"duplicate field", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[1].Name = "Total" }, true, "model.doctypes[0].fields[1].name", `Invoice has two fields named "Total"`},
		{"field name charset", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[0].Name = "a.b" }, true, "model.doctypes[0].fields[0].name", ""},
		{"unknown field type", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[0].Type = "money" }, true, "model.doctypes[0].fields[0].type", `unknown type "money"`},
		{"missing field type", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[0].Type = "" }, true, "model.doctypes[0].fields[0].type", "Choose a type"},
		{"choice without options", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[2].Choices = nil }, true, "model.doctypes[0].fields[2].choices", "needs at least one option"},
		{"empty option", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[2].Choices = []string{"a", " "} }, true, "model.doctypes[0].fields[2].choices", "empty"},
		{"option twice", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[2].Choices = []string{"a", "A"} }, true, "model.doctypes[0].fields[2].choices", "twice"},
		{"options on text", func(a *domain.Assembly) { a.Model.Doctypes[0].Fields[0].Choices = []string{"a"} }, true, "model.doctypes[0].fields[0].choices", "only choice fields"},
		{"too many fields", func(a *domain.Assembly) {
			a.Model.Doctypes[2].Fields = make([]domain.Field, 21)
		}, true, "model.doctypes[2].fields", "at most 20 fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := goodAssembly()
			tc.change(&a)
			err := c.Validate(a, tc.forNew)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *apperr.Error", err)
			}
			if ae.Code != apperr.Unprocessable || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("got %s %q %q, want %s %q containing %q", ae.Code, ae.Field, ae.Message, apperr.Unprocessable, tc.field, tc.msg)
			}
		})
	}
}

func TestValidateAllListsEveryProblem(t *testing.T) {
	c := loadDefault(t)
	a := goodAssembly()
	a.Name = ""
	a.Components = []string{"workflow", "audit", "export"}
	a.Replicas = 3
	a.Model.Color = "blue"
	a.Model.Doctypes[0].Name = ""
	errs := c.ValidateAll(a, true)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := "name components components components replicas model.color model.doctypes[0].name"
	if got := strings.Join(fields, " "); got != want {
		for _, e := range errs {
			t.Log(e.Field, e.Message)
		}
		t.Fatalf("fields %q, want %q", got, want)
	}
	if err := c.Validate(a, true); err == nil || err.(*apperr.Error).Field != "name" {
		t.Fatalf("Validate = %v, want the name first", err)
	}
	if err := c.Validate(goodAssembly(), true); err != nil {
		t.Fatalf("Validate of a good assembly = %v (a typed nil?)", err)
	}
}

func TestStepValidators(t *testing.T) {
	c := loadDefault(t)
	a := domain.Assembly{Name: "Draft", Platform: "contentapp", Version: "1.0"}
	if errs := c.ValidatePlatform(a, true); len(errs) != 0 {
		t.Errorf("platform step: %v", errs)
	}
	if errs := c.ValidateComponents(a); len(errs) != 0 {
		t.Errorf("components step: %v", errs)
	}
	if errs := c.ValidateModel(a); len(errs) != 0 {
		t.Errorf("model step: %v", errs)
	}
	if errs := c.ValidateEnvironment(a); len(errs) != 2 {
		t.Errorf("environment step of a draft: %v", errs)
	}
}
