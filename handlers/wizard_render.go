package handlers

import (
	"context"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/catalog"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// renderStep renders a step's page from its state.
func (h *Handlers) renderStep(c echo.Context, st *stepState, status int) error {
	return web.Render(c, status, h.stepPage(c, st))
}

// stepPage is a step's page, built from its state when it is rendered.
func (h *Handlers) stepPage(c echo.Context, st *stepState) templ.Component {
	return web.Deferred(func() (templ.Component, error) { return h.buildStepPage(c, st) })
}

func (h *Handlers) buildStepPage(c echo.Context, st *stepState) (templ.Component, error) {
	ctx := c.Request().Context()
	a := st.app
	if st.errs == nil {
		st.errs = views.Messages{}
	}
	page := h.Server.PageFor(c, views.StepTitle(st.step)+" · New app")
	page.Nav = "new"
	w := views.Wizard{Page: page, Step: st.step, Errors: st.errs, FormError: st.formError, Notice: st.notice}
	if !st.isNew {
		w.AppID = a.ID
		w.AppName = views.AppRow{Name: a.Name, Revision: a.Revision}.DisplayName()
		if a.IsDraft() {
			w.Reached = views.StepCount
		}
	}
	p, _ := h.Catalog.Platform(a.Platform)
	switch st.step {
	case views.StepPlatform:
		return views.PlatformStepPage(h.platformStep(ctx, w, st)), nil
	case views.StepComponents:
		list := h.componentList(a)
		if msg := st.errs["components"]; msg != "" {
			list.Error = msg
		}
		scope := a.Platform + " " + a.Version
		if p != nil {
			if v, ok := p.Version(a.Version); ok {
				scope = p.Title(v)
			}
		}
		return views.ComponentsStepPage(views.ComponentsStep{W: w, List: list, Scope: scope}), nil
	case views.StepCustom:
		s, err := h.customStep(ctx, w, a)
		if err != nil {
			return nil, err
		}
		return views.CustomStepPage(s), nil
	case views.StepModel:
		m := modelForm(a.Model(), modelSchemaOf(p), views.StepURL(a.ID, views.StepModel), st.errs)
		return views.ModelStepPage(views.ModelStep{W: w, Model: m}), nil
	case views.StepEnvironment:
		s := views.EnvironmentStep{W: w, Replicas: h.replicasField(a, st.replicasRaw, st.errs["replicas"])}
		for i := range h.Catalog.Environments {
			e := &h.Catalog.Environments[i]
			s.Envs = append(s.Envs, views.EnvItem{ID: e.ID, Name: e.Name, Description: e.Description,
				TTL: durationText(e.TTL, "unlimited"), IdleTimeout: durationText(e.IdleTimeout, "never"),
				Memory: bytesText(e.MemoryBytes), CPUs: strconv.FormatFloat(e.CPUs, 'f', -1, 64),
				MaxReplicas: e.MaxReplicas, MaxTenants: e.MaxTenantsPerUser, Checked: e.ID == a.Environment})
		}
		return views.EnvironmentStepPage(s), nil
	}
	s, err := h.reviewStep(ctx, w, a)
	if err != nil {
		return nil, err
	}
	return views.ReviewStepPage(s), nil
}

func (h *Handlers) platformStep(ctx context.Context, w views.Wizard, st *stepState) views.PlatformStep {
	a := st.app
	s := views.PlatformStep{W: w, Name: a.Name, Platform: a.Platform, VersionsURL: "/apps/new/versions"}
	keep := ""
	if !st.isNew {
		s.VersionsURL = views.StepURL(a.ID, views.StepPlatform) + "/versions"
		keep = a.Version
	}
	for _, p := range h.Catalog.Platforms {
		s.Platforms = append(s.Platforms, views.PlatformOption{ID: p.ID, Name: p.Name, Description: p.Description})
	}
	s.Versions = h.versionList(a.Platform, a.Version, keep)
	s.Versions.Error = st.errs["version"]
	if st.isNew {
		if d, err := h.DB.LatestDraft(ctx, a.OwnerID); err == nil && d != nil {
			row := h.appRow(d)
			s.Resume = &row
		}
	}
	return s
}

// versionList is the versions of a platform offered on step 1: current
// ones, and a deprecated one only when the app already has it (keep).
func (h *Handlers) versionList(platform, selected, keep string) views.VersionList {
	l := views.VersionList{Platform: platform, Selected: selected}
	p, ok := h.Catalog.Platform(platform)
	if !ok {
		return l
	}
	for i := range p.Versions {
		v := &p.Versions[i]
		if v.Deprecated && v.Version != keep {
			continue
		}
		l.Versions = append(l.Versions, views.VersionOption{Version: v.Version, Label: p.Title(v), Notes: v.Notes, LTS: v.LTS, Deprecated: v.Deprecated})
	}
	return l
}

func (h *Handlers) customStep(ctx context.Context, w views.Wizard, a *store.App) (views.CustomStep, error) {
	s := views.CustomStep{W: w, MaxSize: bytesText(maxUploadBytes), UploadNotice: w.Notice}
	s.W.Notice = ""
	mine, err := h.DB.CustomComponentsOfOwner(ctx, a.OwnerID)
	if err != nil {
		return s, err
	}
	chosen := map[string]bool{}
	for _, id := range a.CustomComponents() {
		chosen[id] = true
	}
	for i := range mine {
		s.Items = append(s.Items, componentItem(&mine[i], chosen[mine[i].ID]))
	}
	return s, nil
}

// replicasField is step 5's replicas input for the app's environment.
func (h *Handlers) replicasField(a *store.App, raw, msg string) views.ReplicasField {
	f := views.ReplicasField{Value: strconv.Itoa(a.Replicas), Error: msg}
	if raw != "" {
		f.Value = raw
	}
	if e, ok := h.Catalog.Environment(a.Environment); ok {
		f.Max, f.Env = e.MaxReplicas, e.Name
	}
	return f
}

// modelSchemaOf is a platform's model schema, or the catalog default.
func modelSchemaOf(p *catalog.Platform) catalog.ModelSchema {
	if p != nil && len(p.Model.FieldTypes) > 0 {
		return p.Model
	}
	return catalog.ModelSchema{FieldTypes: catalog.FieldTypes(), MaxDoctypes: 10, MaxFields: 20, MaxChoices: 20}
}

func (h *Handlers) reviewStep(ctx context.Context, w views.Wizard, a *store.App) (views.ReviewStep, error) {
	s := views.ReviewStep{W: w, BackURL: views.StepURL(a.ID, views.StepEnvironment)}
	if !a.IsDraft() {
		s.BackURL = "/apps/" + a.ID
	}
	sum, err := h.appSummary(ctx, a)
	if err != nil {
		return s, err
	}
	s.App = sum
	errs, err := h.validateApp(ctx, a, false)
	if err != nil {
		return s, err
	}
	for _, e := range errs {
		s.Problems = append(s.Problems, views.Problem{Step: stepOfField(e.Field), Message: e.Message})
	}
	if len(errs) == 0 {
		s.Dockerfile, s.Compose, err = h.Deployer.Preview(ctx, a)
		if err != nil {
			h.Logger.Warn("preview", "app", a.ID, "err", err)
			s.PreviewError = "The stack could not be previewed: " + errorText(err)
		}
	} else {
		s.Dockerfile = "# The Dockerfile is generated once the problems above are fixed."
		s.Compose = "# The Compose stack is generated once the problems above are fixed."
	}
	if t := a.DeployRequestedAt.Time; !t.IsZero() {
		s.Requested = "Deploy requested on " + timeText(t) + "."
	}
	return s, nil
}
