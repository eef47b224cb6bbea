package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"appfactory/catalog"
)

// CatalogJSON is the API's view of the catalog.
type CatalogJSON struct {
	Platforms    []PlatformJSON        `json:"platforms"`
	Environments []catalog.Environment `json:"environments"`
}

// PlatformJSON is a platform of the catalog; deprecated versions come last.
type PlatformJSON struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Versions    []VersionJSON       `json:"versions"`
	Components  []ComponentInfoJSON `json:"components"`
	Model       catalog.ModelSchema `json:"model"`
}

// VersionJSON is a platform version.
type VersionJSON struct {
	Version    string `json:"version"`
	Label      string `json:"label"`
	Image      string `json:"image"`
	Notes      string `json:"notes"`
	LTS        bool   `json:"lts"`
	Deprecated bool   `json:"deprecated"`
}

// ComponentInfoJSON is a catalog component; an empty versions list means
// every version.
type ComponentInfoJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Requires    []string `json:"requires"`
	Conflicts   []string `json:"conflicts"`
	Versions    []string `json:"versions"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (h *Handlers) apiCatalog(c echo.Context) error {
	out := CatalogJSON{Platforms: []PlatformJSON{}, Environments: h.Catalog.Environments}
	for _, p := range h.Catalog.Platforms {
		pj := PlatformJSON{ID: p.ID, Name: p.Name, Description: p.Description, Model: p.Model,
			Versions: []VersionJSON{}, Components: []ComponentInfoJSON{}}
		for _, deprecated := range []bool{false, true} {
			for _, v := range p.Versions {
				if v.Deprecated == deprecated {
					pj.Versions = append(pj.Versions, VersionJSON{Version: v.Version, Label: p.Title(&v), Image: v.Image,
						Notes: v.Notes, LTS: v.LTS, Deprecated: v.Deprecated})
				}
			}
		}
		for _, comp := range p.Components {
			pj.Components = append(pj.Components, ComponentInfoJSON{ID: comp.ID, Name: comp.Name, Description: comp.Description,
				Requires: nonNil(comp.Requires), Conflicts: nonNil(comp.Conflicts), Versions: nonNil(comp.Versions)})
		}
		out.Platforms = append(out.Platforms, pj)
	}
	if out.Environments == nil {
		out.Environments = []catalog.Environment{}
	}
	return c.JSON(http.StatusOK, out)
}
