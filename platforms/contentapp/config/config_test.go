package config

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"appfactory/platforms/contentapp/content"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(t.TempDir(), envOf(nil), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Title != content.DefaultTitle || cfg.Model.Color != content.DefaultColor || len(cfg.Model.Doctypes) != 0 || len(cfg.Components) != 0 || len(cfg.Custom) != 0 {
		t.Fatalf("defaults = %+v", cfg)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "model.json"), `{"title":"Acme Docs","color":"#aa3355","extra":1,
		"doctypes":[{"name":"Contract","fields":[{"name":"kind","type":"choice","choices":["nda","msa"]}]}]}`)
	writeFile(t, filepath.Join(dir, "config", "components.json"), `["comments","search","comments"]`)
	writeFile(t, filepath.Join(dir, "custom", "b-stamp", "component.yaml"), "name: Stamp\nversion: 1.0\ndescription: Adds a stamp\nauthor: someone\n")
	writeFile(t, filepath.Join(dir, "custom", "b-stamp", "stamp.js"), "x")
	writeFile(t, filepath.Join(dir, "custom", "a-noname", "component.yaml"), "version: \"2\"\n")
	writeFile(t, filepath.Join(dir, "custom", "c-nofile", "readme"), "x")

	tests := []struct {
		name             string
		env              map[string]string
		wantTitle, color string
	}{
		{"files", nil, "Acme Docs", "#aa3355"},
		{"env wins", map[string]string{"CONTENTAPP_TITLE": "Env Docs", "CONTENTAPP_COLOR": "#00ff00"}, "Env Docs", "#00ff00"},
		{"bad env colour ignored", map[string]string{"CONTENTAPP_COLOR": "red;}"}, "Acme Docs", "#aa3355"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(dir, envOf(tt.env), quiet)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Model.Title != tt.wantTitle || cfg.Model.Color != tt.color {
				t.Fatalf("title, colour = %q, %q", cfg.Model.Title, cfg.Model.Color)
			}
			if len(cfg.Model.Doctypes) != 1 || cfg.Model.Doctypes[0].Fields[0].Choices[1] != "msa" {
				t.Fatalf("doctypes = %+v", cfg.Model.Doctypes)
			}
			if len(cfg.Components) != 2 || !cfg.Components.Has("search") {
				t.Fatalf("components = %v", cfg.Components)
			}
			want := []Custom{{Name: "a-noname", Version: "2"}, {Name: "Stamp", Version: "1.0", Description: "Adds a stamp"}}
			if len(cfg.Custom) != 2 || cfg.Custom[0] != want[0] || cfg.Custom[1] != want[1] {
				t.Fatalf("custom = %+v", cfg.Custom)
			}
		})
	}
}

func TestLoadBadFiles(t *testing.T) {
	tests := []struct{ name, path, body string }{
		{"model not json", "config/model.json", "{"},
		{"model invalid", "config/model.json", `{"doctypes":[{"name":"A","fields":[{"name":"x","type":"blob"}]}]}`},
		{"components not list", "config/components.json", `{"comments":true}`},
		{"component yaml broken", "custom/x/component.yaml", "name: [\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, tt.path), tt.body)
			if _, err := Load(dir, envOf(nil), quiet); err == nil {
				t.Fatal("Load accepted a bad file")
			}
		})
	}
}

func FuzzParseModel(f *testing.F) {
	f.Add([]byte(`{"title":"T","color":"#123456","doctypes":[{"name":"A","fields":[{"name":"x","type":"choice","choices":["a"]}]}]}`))
	f.Add([]byte(`{"doctypes":[{"name":"A"},{"name":"A"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseModel(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed model fails validation: %v", err)
		}
		if m.Color != "" && !content.ValidColor(m.Color) {
			t.Fatalf("colour %q let through", m.Color)
		}
	})
}

func FuzzParseCustom(f *testing.F) {
	f.Add([]byte("name: Stamp\nversion: 1.0\ndescription: d\n"), "dir")
	f.Add([]byte("name: [\n"), "x")
	f.Add([]byte("- a\n- b\n"), "")
	f.Fuzz(func(t *testing.T, b []byte, dir string) {
		c, err := ParseCustom(b, dir)
		if err == nil && (c.Name == "" || len(c.Name) > 100) {
			t.Fatalf("accepted component with name %q", c.Name)
		}
	})
}
