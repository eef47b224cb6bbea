package factory

import (
	"encoding/json"
	"testing"

	"appfactory/domain"
)

func TestAssemblyColumn(t *testing.T) {
	model := domain.Model{Title: "Acme <Docs>", Color: "#225588", Doctypes: []domain.Doctype{
		{Name: "Contract", Fields: []domain.Field{{Name: "kind", Type: "choice", Choices: []string{"buy", "sell"}}}}}}
	snap := domain.Assembly{Components: []string{"comments"}, Custom: []domain.CustomRef{{ID: "c1", Name: "logo", SHA256: "ab"}}, Model: model}
	column, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAssembly(string(column))
	if err != nil {
		t.Fatal(err)
	}
	if a.Components[0] != "comments" || a.Custom[0].SHA256 != "ab" || a.Model.Doctypes[0].Fields[0].Choices[1] != "sell" {
		t.Fatalf("parsed %+v", a)
	}
	// The image is made from the model's bytes as the column holds them,
	// which are those the model encodes to.
	got, err := AssemblyModel(string(column))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(model)
	if string(got) != string(want) {
		t.Fatalf("model bytes %s, want %s", got, want)
	}

	// A column from before tenants kept their model builds an empty one.
	if m, err := AssemblyModel("{}"); err != nil || m != nil {
		t.Fatalf("empty column: %s, %v", m, err)
	}
	if _, err := AssemblyModel("{"); err == nil {
		t.Fatal("a broken column is no error")
	}
	if _, err := ParseAssembly("{"); err == nil {
		t.Fatal("a broken column is no error")
	}
}
