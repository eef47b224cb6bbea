package handlers

import (
	"context"
	"slices"
	"strings"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
)

// defaultColor is the primary colour of a new application model.
const defaultColor = "#4f46e5"

// assemblyOf is the catalog's view of an app.
func assemblyOf(a *store.App) domain.Assembly {
	return domain.Assembly{
		Name:        a.Name,
		Platform:    a.Platform,
		Version:     a.Version,
		Components:  a.Components(),
		Custom:      domain.CustomByID(a.CustomComponents()),
		Environment: a.Environment,
		Replicas:    a.Replicas,
		Model:       a.Model(),
	}
}

// applyAssembly writes an assembly into an app.
func applyAssembly(a *store.App, as domain.Assembly) {
	a.Name = strings.TrimSpace(as.Name)
	a.Platform = as.Platform
	a.Version = as.Version
	a.SetComponents(as.Components)
	a.SetCustomComponents(as.CustomIDs())
	a.Environment = as.Environment
	a.Replicas = as.Replicas
	// Lists rather than nulls, so that a model saved from JSON gives the
	// image a model saved from the form does.
	m := as.Model.WithLists()
	m.Title = strings.TrimSpace(m.Title)
	a.SetModel(m)
}

// stepOfField is the wizard step where a field is edited.
func stepOfField(field string) int {
	switch {
	case field == "name" || field == "platform" || field == "version":
		return views.StepPlatform
	case field == "components":
		return views.StepComponents
	case field == "custom_components" || field == "file":
		return views.StepCustom
	case field == "model" || strings.HasPrefix(field, "model."):
		return views.StepModel
	case field == "environment" || field == "replicas":
		return views.StepEnvironment
	}
	return views.StepReview
}

// forNewVersion reports whether a version is newly chosen for an app, so
// that a deprecated one is refused; an app that already has it (saved with
// it, or copied from one that had it) may keep it.
func forNewVersion(before *store.App, version string) bool {
	return before == nil || before.Version != version
}

// validateApp returns every problem of an app: the catalog's and the
// ownership of its custom components. forNew refuses a deprecated version.
func (h *Handlers) validateApp(ctx context.Context, a *store.App, forNew bool) ([]*apperr.Error, error) {
	errs := h.Catalog.ValidateAll(assemblyOf(a), forNew)
	e, err := h.checkCustomOwned(ctx, a.OwnerID, a.CustomComponents())
	if err != nil {
		return nil, err
	}
	if e != nil {
		errs = append(errs, e)
	}
	slices.SortStableFunc(errs, func(x, y *apperr.Error) int { return stepOfField(x.Field) - stepOfField(y.Field) })
	return errs, nil
}

// checkCustomOwned refuses custom components that the owner did not upload:
// nobody else's component can be seen or used.
func (h *Handlers) checkCustomOwned(ctx context.Context, ownerID string, ids []string) (*apperr.Error, error) {
	for _, id := range ids {
		_, err := h.DB.CustomComponentOfOwner(ctx, id, ownerID)
		if apperr.Code(err) == apperr.NotFound {
			return apperr.FieldError(apperr.Unprocessable, "custom_components", "Unknown custom component %q: upload it first.", id), nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// errorsOfStep keeps the problems of one step, as messages by field.
func errorsOfStep(errs []*apperr.Error, step int) views.Messages {
	m := views.Messages{}
	for _, e := range errs {
		if stepOfField(e.Field) != step {
			continue
		}
		if _, ok := m[e.Field]; !ok {
			m[e.Field] = e.Message
		}
	}
	return m
}

// pruneComponents drops the components that a platform version does not
// offer, after the platform or version changed.
func pruneComponents(cat *catalog.Catalog, a *store.App) {
	p, ok := cat.Platform(a.Platform)
	if !ok {
		a.SetComponents(nil)
		return
	}
	var keep []string
	for _, id := range a.Components() {
		if c, ok := p.Component(id); ok && c.Supports(a.Version) {
			keep = append(keep, id)
		}
	}
	a.SetComponents(keep)
}

// newDraft is a draft with the defaults of the later steps filled in.
func (h *Handlers) newDraft(ownerID string) *store.App {
	a := &store.App{OwnerID: ownerID, Status: store.AppDraft, Step: views.StepPlatform, Replicas: 1}
	if len(h.Catalog.Environments) > 0 {
		a.Environment = h.Catalog.Environments[0].ID
	}
	a.SetModel(domain.Model{Color: defaultColor, Doctypes: []domain.Doctype{}})
	return a
}
