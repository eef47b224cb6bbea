package factory

import (
	"encoding/json"
	"fmt"

	"appfactory/domain"
)

// ParseAssembly reads a tenant's assembly column: the snapshot of its app's
// assembly taken at deploy time, which a rebuild of the tenant uses.
func ParseAssembly(s string) (domain.Assembly, error) {
	var a domain.Assembly
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return a, fmt.Errorf("tenant assembly: %w", err)
	}
	return a, nil
}

// AssemblyModel is the model of a tenant's assembly column as it was
// stored, for BuildInput.Model: the image hashes these bytes, and a column
// without a model (written before tenants kept one) gives nil, which builds
// as {} just as it always has, where re-encoding a domain.Model would give
// an empty model's JSON and a new image.
func AssemblyModel(s string) (json.RawMessage, error) {
	var a struct {
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("tenant assembly: %w", err)
	}
	return a.Model, nil
}
