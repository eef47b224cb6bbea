package factory

import (
	"encoding/json"
	"fmt"
)

// Assembly is what a tenant's image is built from, copied from its app at
// deploy time (tenants.assembly): editing the app later never changes what
// a rebuild of the tenant gives. Platform and version are tenant columns.
type Assembly struct {
	Components []string        `json:"components"`
	Custom     []CustomRef     `json:"custom_components"`
	Model      json.RawMessage `json:"model"`
}

// CustomRef names an uploaded custom component by its content hash.
type CustomRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Format  string `json:"format"`
}

// ParseAssembly reads a tenant's assembly column.
func ParseAssembly(s string) (Assembly, error) {
	var a Assembly
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return a, fmt.Errorf("tenant assembly: %w", err)
	}
	return a, nil
}
