package content

import "slices"

// Ids of the built-in components that change what the platform does.
const (
	Comments   = "comments"
	Versioning = "versioning"
	Workflow   = "workflow"
	Search     = "search"
)

// Descriptions of the built-in components, shown on the home page.
var builtin = map[string]string{
	Comments:   "Comments on documents",
	Versioning: "Every update keeps the previous version",
	Workflow:   "Draft, review and published states",
	Search:     "Full-text search over titles and fields",
}

// Describe returns the description of a built-in component, "" for others.
func Describe(id string) string { return builtin[id] }

// Components is the list of enabled component ids.
type Components []string

// Has reports whether the component id is enabled.
func (c Components) Has(id string) bool { return slices.Contains(c, id) }
