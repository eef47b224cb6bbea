package catalog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"appfactory/apperr"
	"appfactory/domain"
)

// Limits of an assembly that do not depend on the platform.
const (
	MaxNameLength       = 60
	MaxCustomComponents = 20
)

// Validate checks what a user assembled against the catalog: it returns
// the first problem of the assembly as an *apperr.Error
// naming the field at fault, or nil. forNew refuses deprecated versions,
// which existing apps may keep.
func (c *Catalog) Validate(a domain.Assembly, forNew bool) error {
	if errs := c.ValidateAll(a, forNew); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// ValidateAll returns every problem of the assembly, in the order of the
// wizard's steps, for a form to show each beside its field.
func (c *Catalog) ValidateAll(a domain.Assembly, forNew bool) []*apperr.Error {
	var errs []*apperr.Error
	errs = append(errs, ValidateName(a.Name)...)
	errs = append(errs, c.ValidatePlatform(a, forNew)...)
	errs = append(errs, c.ValidateComponents(a)...)
	errs = append(errs, c.ValidateEnvironment(a)...)
	errs = append(errs, c.ValidateModel(a)...)
	return errs
}

func unprocessable(field, format string, args ...any) *apperr.Error {
	return apperr.FieldError(apperr.Unprocessable, field, format, args...)
}

// ValidateName checks an application's name.
func ValidateName(name string) []*apperr.Error {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return []*apperr.Error{unprocessable("name", "Give the application a name.")}
	case utf8.RuneCountInString(n) > MaxNameLength:
		return []*apperr.Error{unprocessable("name", "The name can be at most %d characters long.", MaxNameLength)}
	case !utf8.ValidString(n) || strings.IndexFunc(n, unicode.IsControl) >= 0:
		return []*apperr.Error{unprocessable("name", "The name cannot hold control characters.")}
	}
	return nil
}

// ValidatePlatform checks the platform and version; forNew refuses a
// deprecated version.
func (c *Catalog) ValidatePlatform(a domain.Assembly, forNew bool) []*apperr.Error {
	if a.Platform == "" {
		return []*apperr.Error{unprocessable("platform", "Choose a platform.")}
	}
	p, ok := c.Platform(a.Platform)
	if !ok {
		return []*apperr.Error{unprocessable("platform", "Unknown platform %q.", a.Platform)}
	}
	if a.Version == "" {
		return []*apperr.Error{unprocessable("version", "Choose a version of %s.", p.Name)}
	}
	v, ok := p.Version(a.Version)
	switch {
	case !ok:
		return []*apperr.Error{unprocessable("version", "%s has no version %q.", p.Name, a.Version)}
	case forNew && v.Deprecated:
		return []*apperr.Error{unprocessable("version", "%s is deprecated: choose a current version for a new application.", p.Title(v))}
	}
	return nil
}

// ValidateComponents checks the selected components against the platform
// and version, their requirements and conflicts, and the custom components.
func (c *Catalog) ValidateComponents(a domain.Assembly) []*apperr.Error {
	errs := validateCustom(a.CustomIDs())
	p, ok := c.Platform(a.Platform)
	if !ok {
		if len(a.Components) > 0 {
			errs = append(errs, unprocessable("components", "Choose a platform before its components."))
		}
		return errs
	}
	v, knownVersion := p.Version(a.Version)
	selected := map[string]*Component{}
	for _, id := range a.Components {
		comp, ok := p.Component(id)
		switch {
		case id == "":
			errs = append(errs, unprocessable("components", "A component has no name."))
		case selected[id] != nil:
			errs = append(errs, unprocessable("components", "%s is selected twice.", comp.Name))
		case !ok:
			errs = append(errs, unprocessable("components", "%s has no component %q.", p.Name, id))
		case knownVersion && !comp.Supports(v.Version):
			errs = append(errs, unprocessable("components", "%s is not available on %s.", comp.Name, p.Title(v)))
			selected[id] = comp
		default:
			selected[id] = comp
		}
	}
	clashes := map[[2]string]bool{}
	for _, id := range a.Components {
		comp := selected[id]
		if comp == nil {
			continue
		}
		for _, req := range comp.Requires {
			if selected[req] == nil {
				errs = append(errs, unprocessable("components", "%s requires %s.", comp.Name, componentName(p, req)))
			}
		}
		for _, other := range comp.Conflicts {
			pair := [2]string{min(id, other), max(id, other)}
			if selected[other] != nil && !clashes[pair] {
				clashes[pair] = true
				errs = append(errs, unprocessable("components", "%s conflicts with %s: choose one of them.", comp.Name, componentName(p, other)))
			}
		}
	}
	return dedupe(errs)
}

func componentName(p *Platform, id string) string {
	if c, ok := p.Component(id); ok {
		return c.Name
	}
	return id
}

// dedupe drops repeated messages, such as a conflict declared on both sides.
func dedupe(errs []*apperr.Error) []*apperr.Error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		key := e.Field + "\x00" + e.Message
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out
}

func validateCustom(ids []string) []*apperr.Error {
	if len(ids) > MaxCustomComponents {
		return []*apperr.Error{unprocessable("custom_components", "At most %d custom components.", MaxCustomComponents)}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		switch {
		case id == "" || len(id) > 64:
			return []*apperr.Error{unprocessable("custom_components", "Unknown custom component.")}
		case seen[id]:
			return []*apperr.Error{unprocessable("custom_components", "A custom component is selected twice.")}
		}
		seen[id] = true
	}
	return nil
}

// ValidateEnvironment checks the environment and the number of replicas it
// allows.
func (c *Catalog) ValidateEnvironment(a domain.Assembly) []*apperr.Error {
	var errs []*apperr.Error
	e, ok := c.Environment(a.Environment)
	switch {
	case a.Environment == "":
		errs = append(errs, unprocessable("environment", "Choose an environment."))
	case !ok:
		errs = append(errs, unprocessable("environment", "Unknown environment %q.", a.Environment))
	}
	switch {
	case a.Replicas < 1:
		errs = append(errs, unprocessable("replicas", "Run at least 1 replica."))
	case ok && a.Replicas > e.MaxReplicas:
		errs = append(errs, unprocessable("replicas", "%s allows at most %d %s.", e.Name, e.MaxReplicas, plural(e.MaxReplicas, "replica", "replicas")))
	}
	return errs
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ValidateModel checks the application model against the platform's model
// schema (the default schema when the platform is unknown).
func (c *Catalog) ValidateModel(a domain.Assembly) []*apperr.Error {
	schema := defaultModelSchema()
	if p, ok := c.Platform(a.Platform); ok {
		schema = p.Model
	}
	return schema.Validate(a.Model)
}
