package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"appfactory/apperr"
)

// Custom is an uploaded custom component, described by its component.yaml.
type Custom struct {
	Name        string `yaml:"name"`
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
}

// maxCustom bounds how many custom components are listed.
const maxCustom = 100

// loadCustom reads dir/<name>/component.yaml for every subdirectory, sorted
// by directory name; a missing dir means none.
func loadCustom(dir string) ([]Custom, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []Custom
	for _, e := range entries {
		if !e.IsDir() || len(out) == maxCustom {
			continue
		}
		b, err := readFile(filepath.Join(dir, e.Name(), "component.yaml"))
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		c, err := ParseCustom(b, e.Name())
		if err != nil {
			return nil, fmt.Errorf("custom component %s: %w", e.Name(), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseCustom decodes a component.yaml; the directory name stands in for a
// missing name. Extra keys are allowed: a component may describe more.
func ParseCustom(b []byte, dirName string) (Custom, error) {
	var c Custom
	if err := yaml.Unmarshal(b, &c); err != nil {
		return Custom{}, apperr.New(apperr.Invalid, "component.yaml is not valid YAML: %v", err)
	}
	c.Name = strings.TrimSpace(c.Name)
	c.Version = strings.TrimSpace(c.Version)
	c.Description = strings.TrimSpace(c.Description)
	if c.Name == "" {
		c.Name = dirName
	}
	if c.Name == "" || len(c.Name) > 100 || len(c.Version) > 50 || len(c.Description) > 2000 {
		return Custom{}, apperr.New(apperr.Invalid, "component.yaml has a missing or overlong name, version or description.")
	}
	return c, nil
}
