// Package config reads the customisation the factory bakes into a contentapp
// image: the application model, the enabled components and the uploaded
// custom components, with environment overrides for title and colour.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
)

// DefaultDir is where the factory puts the customisation in the image.
const DefaultDir = "/app"

// maxFile bounds every configuration file read, so a bad upload cannot
// exhaust memory at start.
const maxFile = 1 << 20

// Config is everything that customises one contentapp deployment.
type Config struct {
	Model      content.Model
	Components content.Components
	Custom     []Custom
}

// Load reads dir/config/model.json, dir/config/components.json and
// dir/custom/*/component.yaml; missing files mean defaults. getenv supplies
// CONTENTAPP_TITLE and CONTENTAPP_COLOR, which win when set.
func Load(dir string, getenv func(string) string, log *slog.Logger) (Config, error) {
	var cfg Config
	if b, err := readFile(filepath.Join(dir, "config", "model.json")); err != nil {
		return cfg, err
	} else if b != nil {
		if cfg.Model, err = ParseModel(b); err != nil {
			return cfg, fmt.Errorf("model.json: %w", err)
		}
	}
	if b, err := readFile(filepath.Join(dir, "config", "components.json")); err != nil {
		return cfg, err
	} else if b != nil {
		if cfg.Components, err = ParseComponents(b); err != nil {
			return cfg, fmt.Errorf("components.json: %w", err)
		}
	}
	custom, err := loadCustom(filepath.Join(dir, "custom"))
	if err != nil {
		return cfg, err
	}
	cfg.Custom = custom
	if t := strings.TrimSpace(getenv("CONTENTAPP_TITLE")); t != "" {
		if len(t) > content.MaxTitle {
			t = t[:content.MaxTitle]
		}
		cfg.Model.Title = t
	}
	if c := strings.TrimSpace(getenv("CONTENTAPP_COLOR")); c != "" {
		if content.ValidColor(c) {
			cfg.Model.Color = c
		} else {
			log.Warn("ignoring CONTENTAPP_COLOR: not #RRGGBB", slog.String("value", c))
		}
	}
	if cfg.Model.Title == "" {
		cfg.Model.Title = content.DefaultTitle
	}
	if cfg.Model.Color == "" {
		cfg.Model.Color = content.DefaultColor
	}
	return cfg, nil
}

// readFile returns nil, nil for a missing file.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxFile)
	}
	return b, nil
}

// ParseModel decodes and validates model.json. Unknown keys are ignored so
// that the factory may add to the model without breaking older images.
func ParseModel(b []byte) (content.Model, error) {
	var m content.Model
	if err := json.Unmarshal(b, &m); err != nil {
		return content.Model{}, apperr.New(apperr.Invalid, "The model is not valid JSON: %v", err)
	}
	if err := m.Validate(); err != nil {
		return content.Model{}, err
	}
	return m, nil
}

// ParseComponents decodes components.json: a JSON array of component ids.
func ParseComponents(b []byte) (content.Components, error) {
	var ids []string
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&ids); err != nil {
		return nil, apperr.New(apperr.Invalid, "The component list is not a JSON array of strings: %v", err)
	}
	out := content.Components{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || len(id) > 64 {
			return nil, apperr.New(apperr.Invalid, "A component id is empty or too long.")
		}
		if !out.Has(id) {
			out = append(out, id)
		}
	}
	return out, nil
}
