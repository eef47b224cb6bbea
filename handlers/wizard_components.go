package handlers

import (
	"slices"
	"strings"

	"appfactory/catalog"
	"appfactory/views"
)

// componentChoices lays out a platform version's components for a
// selection, the way step 2 enforces requires and conflicts as the user
// clicks: what a selected component requires is selected too and locked,
// what conflicts with the selection is disabled, and what the version does
// not offer is disabled. It returns the list and the resulting selection, in
// catalog order. The catalog's validation stays the authority: a selection
// that still breaks a rule (sent by hand) is reported, not repaired.
func componentChoices(p *catalog.Platform, version string, selected []string) ([]views.ComponentItem, []string) {
	sel := map[string]bool{}
	for _, id := range selected {
		if c, ok := p.Component(id); ok && c.Supports(version) {
			sel[id] = true
		}
	}
	// Requirements, transitively; requiredBy names who needs each one.
	requiredBy := map[string][]string{}
	for changed := true; changed; {
		changed = false
		for i := range p.Components {
			c := &p.Components[i]
			if !sel[c.ID] {
				continue
			}
			for _, req := range c.Requires {
				if !slices.Contains(requiredBy[req], c.Name) {
					requiredBy[req] = append(requiredBy[req], c.Name)
				}
				if r, ok := p.Component(req); ok && r.Supports(version) && !sel[req] {
					sel[req] = true
					changed = true
				}
			}
		}
	}
	items := make([]views.ComponentItem, 0, len(p.Components))
	var effective []string
	for i := range p.Components {
		c := &p.Components[i]
		it := views.ComponentItem{ID: c.ID, Name: c.Name, Description: c.Description, Checked: sel[c.ID],
			Requires: componentNames(p, c.Requires), Conflicts: componentNames(p, c.Conflicts)}
		switch {
		case !c.Supports(version):
			it.Disabled = true
			it.Note = "Not available on this version."
		case sel[c.ID] && len(requiredBy[c.ID]) > 0:
			it.Locked = true
			it.Note = "Selected because " + strings.Join(requiredBy[c.ID], " and ") + " " + needs(len(requiredBy[c.ID])) + " it."
		case !sel[c.ID]:
			if by := conflictsWith(p, c, sel); len(by) > 0 {
				it.Disabled = true
				it.Note = "Unavailable: it conflicts with " + strings.Join(by, " and ") + "."
			}
		}
		if sel[c.ID] {
			effective = append(effective, c.ID)
		}
		items = append(items, it)
	}
	return items, effective
}

func needs(n int) string {
	if n == 1 {
		return "needs"
	}
	return "need"
}

// conflictsWith names the selected components that conflict with c, in
// either direction of the declaration.
func conflictsWith(p *catalog.Platform, c *catalog.Component, sel map[string]bool) []string {
	var names []string
	for i := range p.Components {
		o := &p.Components[i]
		if !sel[o.ID] || o.ID == c.ID {
			continue
		}
		if slices.Contains(c.Conflicts, o.ID) || slices.Contains(o.Conflicts, c.ID) {
			names = append(names, o.Name)
		}
	}
	return names
}

func componentNames(p *catalog.Platform, ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if c, ok := p.Component(id); ok {
			names = append(names, c.Name)
		} else {
			names = append(names, id)
		}
	}
	return strings.Join(names, ", ")
}
