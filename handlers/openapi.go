package handlers

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openAPIParts is the OpenAPI document of /api/v1 in parts: base.yaml
// (info, components), then every paths_*.yaml.
//
//go:embed openapi/*.yaml
var openAPIParts embed.FS

// OpenAPIDocument is the OpenAPI 3.1 document of /api/v1 as JSON: the parts
// merged, their paths and component schemas together.
func OpenAPIDocument() ([]byte, error) {
	names, err := fs.Glob(openAPIParts, "openapi/paths_*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc, err := openAPIPart("openapi/base.yaml")
	if err != nil {
		return nil, err
	}
	paths := map[string]any{}
	doc["paths"] = paths
	for _, name := range names {
		part, err := openAPIPart(name)
		if err != nil {
			return nil, err
		}
		ps, _ := part["paths"].(map[string]any)
		for p, item := range ps {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("openapi: %s: path %s is in another part too", name, p)
			}
			paths[p] = item
		}
		// A part may declare the schemas only its paths use.
		if comps, ok := part["components"].(map[string]any); ok {
			schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
			own, _ := comps["schemas"].(map[string]any)
			for n, sch := range own {
				if _, dup := schemas[n]; dup {
					return nil, fmt.Errorf("openapi: %s: schema %s is declared twice", name, n)
				}
				schemas[n] = sch
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func openAPIPart(name string) (map[string]any, error) {
	b, err := openAPIParts.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	return m, nil
}

// openAPIPath is where the document is served.
const openAPIPath = "/api/v1/openapi.json"

// registerOpenAPI serves the document, to anyone: it holds no data.
func (h *Handlers) registerOpenAPI(e *echo.Echo) error {
	doc, err := OpenAPIDocument()
	if err != nil {
		return err
	}
	e.GET(openAPIPath, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.JSONBlob(http.StatusOK, doc)
	})
	return nil
}
