// Package catalog holds what appfactory can deploy: platforms and their
// versions, the components a user can add, the application-model schema, the
// environments (trial, demo, production) and the Compose stack template of
// each platform. It loads and validates the catalog file, checks what a user
// assembles against it, loads a tenant's stack, and checks uploaded custom
// component bundles. It depends on neither the store nor the orchestrator.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"
)

// defaultCatalog is the catalog compiled into the binary; a string so that
// nothing can change it at run time.
//
//go:embed catalog.yaml
var defaultCatalog string

// DefaultName is the file name that errors in the embedded catalog carry.
const DefaultName = "catalog.yaml (embedded)"

// maxCatalogSize bounds a catalog file: it is read whole into memory.
const maxCatalogSize = 4 << 20

// Catalog is everything a user can choose from.
type Catalog struct {
	Platforms    []Platform    `json:"platforms"`
	Environments []Environment `json:"environments"`
}

// Platform is an application platform (a product) with its versions,
// components, model schema and stack template.
type Platform struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Versions    []Version   `json:"versions"`
	Components  []Component `json:"components"`
	Model       ModelSchema `json:"model"`
	// Stack is the Compose template used by versions without their own.
	Stack string `json:"-"`

	stackLine int // line of the stack in the catalog file, for errors
}

// Version is one release of a platform.
type Version struct {
	Version    string `json:"version"`
	Label      string `json:"label"`
	Image      string `json:"image"`
	Notes      string `json:"notes,omitempty"`
	LTS        bool   `json:"lts"`
	Deprecated bool   `json:"deprecated"`
	// Stack overrides the platform's stack template when not empty.
	Stack string `json:"-"`

	stackLine int
}

// Component is an add-on a user can select for a platform.
type Component struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Requires    []string `json:"requires,omitempty"`
	Conflicts   []string `json:"conflicts,omitempty"`
	// Versions lists the platform versions that support the component;
	// empty means every version.
	Versions []string `json:"versions,omitempty"`
	// Env is set in the image when the component is selected.
	Env map[string]string `json:"env,omitempty"`
	// Files maps an absolute path in the image to its content.
	Files map[string]string `json:"-"`
}

// ModelSchema says what the application-model editor offers.
type ModelSchema struct {
	FieldTypes  []string `json:"field_types"`
	MaxDoctypes int      `json:"max_doctypes"`
	MaxFields   int      `json:"max_fields"`
	MaxChoices  int      `json:"max_choices"`
}

// Environment is a deployment class with its lifetimes and resource limits.
// A zero TTL or IdleTimeout means none; a zero PauseAfter means never paused.
type Environment struct {
	ID                string
	Name              string
	Description       string
	TTL               time.Duration
	IdleTimeout       time.Duration
	PauseAfter        time.Duration
	MemoryBytes       int64
	CPUs              float64
	PidsLimit         int64
	MaxReplicas       int
	MaxTenantsPerUser int
}

// MarshalJSON writes durations in seconds, which JSON clients can use.
func (e Environment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID                string  `json:"id"`
		Name              string  `json:"name"`
		Description       string  `json:"description"`
		TTLSeconds        int64   `json:"ttl_seconds"`
		IdleTimeoutSecs   int64   `json:"idle_timeout_seconds"`
		PauseAfterSecs    int64   `json:"pause_after_seconds"`
		MemoryBytes       int64   `json:"memory_bytes"`
		CPUs              float64 `json:"cpus"`
		PidsLimit         int64   `json:"pids_limit"`
		MaxReplicas       int     `json:"max_replicas"`
		MaxTenantsPerUser int     `json:"max_tenants_per_user"`
	}{e.ID, e.Name, e.Description, int64(e.TTL / time.Second), int64(e.IdleTimeout / time.Second),
		int64(e.PauseAfter / time.Second), e.MemoryBytes, e.CPUs, e.PidsLimit, e.MaxReplicas, e.MaxTenantsPerUser})
}

// Load reads and validates the catalog file at path; "" loads the embedded
// default catalog.
func Load(path string) (*Catalog, error) {
	if path == "" {
		return Parse(DefaultName, []byte(defaultCatalog))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat catalog: %w", err)
	}
	if st.Size() > maxCatalogSize {
		return nil, &LoadError{File: path, Problems: []Problem{{Message: fmt.Sprintf("file is larger than %d bytes", maxCatalogSize)}}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return Parse(path, data)
}

// Platform returns the platform with the given id.
func (c *Catalog) Platform(id string) (*Platform, bool) {
	for i := range c.Platforms {
		if c.Platforms[i].ID == id {
			return &c.Platforms[i], true
		}
	}
	return nil, false
}

// Environment returns the environment with the given id.
func (c *Catalog) Environment(id string) (*Environment, bool) {
	for i := range c.Environments {
		if c.Environments[i].ID == id {
			return &c.Environments[i], true
		}
	}
	return nil, false
}

// Version returns the platform version with the given version string.
func (p *Platform) Version(v string) (*Version, bool) {
	for i := range p.Versions {
		if p.Versions[i].Version == v {
			return &p.Versions[i], true
		}
	}
	return nil, false
}

// Component returns the platform component with the given id.
func (p *Platform) Component(id string) (*Component, bool) {
	for i := range p.Components {
		if p.Components[i].ID == id {
			return &p.Components[i], true
		}
	}
	return nil, false
}

// StackFor returns the stack template of a version: its own, or the
// platform's when it has none (or when the version is unknown).
func (p *Platform) StackFor(version string) string {
	if v, ok := p.Version(version); ok && v.Stack != "" {
		return v.Stack
	}
	return p.Stack
}

// Supports reports whether the component is available on the version.
func (c *Component) Supports(version string) bool {
	return len(c.Versions) == 0 || slices.Contains(c.Versions, version)
}

// Title returns how users see the version: its label, else platform and version.
func (p *Platform) Title(v *Version) string {
	if v.Label != "" {
		return v.Label
	}
	return p.Name + " " + v.Version
}
