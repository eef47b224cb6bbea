package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/store"
	"appfactory/views"
	"appfactory/web"
)

// stepState is what a step shows: the app's values (saved, or as just
// typed when they are refused) and the messages beside them.
type stepState struct {
	app  *store.App
	step int
	errs views.Messages
	// isNew is true on the first step of an app not yet saved.
	isNew     bool
	formError string
	notice    string
	// replicasRaw is the replicas input as typed, when it was not a number.
	replicasRaw string
}

// registerWizard installs the wizard's routes under /apps.
func (h *Handlers) registerWizard(g *echo.Group) {
	g.GET("/new", h.wizardNew)
	g.POST("/new", h.wizardCreate)
	g.GET("/new/versions", h.wizardVersions)
	g.GET("/:id/wizard/:step", h.wizardStep)
	g.POST("/:id/wizard/:step", h.wizardSave, limitBody(maxUploadBody))
	g.GET("/:id/wizard/1/versions", h.wizardVersions)
	g.GET("/:id/wizard/5/replicas", h.wizardReplicas)
}

// wizardNew shows the first step of a new app, offering to resume the
// newest draft; nothing is saved until that step is.
func (h *Handlers) wizardNew(c echo.Context) error {
	u := CurrentUser(c)
	st := &stepState{app: h.newDraft(u.ID), step: views.StepPlatform, isNew: true, errs: views.Messages{}}
	if len(h.Catalog.Platforms) > 0 {
		st.app.Platform = h.Catalog.Platforms[0].ID
	}
	return h.renderStep(c, st, http.StatusOK)
}

// wizardCreate saves the first step of a new app as a draft and moves on.
func (h *Handlers) wizardCreate(c echo.Context) error {
	u := CurrentUser(c)
	a := h.newDraft(u.ID)
	a.Name = strings.TrimSpace(c.FormValue("name"))
	a.Platform = c.FormValue("platform")
	a.Version = c.FormValue("version")
	st := &stepState{app: a, step: views.StepPlatform, isNew: true}
	errs, err := h.validateApp(c.Request().Context(), a, true)
	if err != nil {
		return err
	}
	if st.errs = errorsOfStep(errs, views.StepPlatform); len(st.errs) > 0 {
		return h.renderStep(c, st, http.StatusUnprocessableEntity)
	}
	m := a.Model()
	m.Title = a.Name
	a.SetModel(m)
	a.Step = views.StepComponents
	if err := h.DB.CreateApp(c.Request().Context(), a); err != nil {
		return err
	}
	h.Logger.Info("draft created", "app", a.ID, "user", u.ID, "platform", a.Platform, "version", a.Version)
	return web.Redirect(c, views.StepURL(a.ID, a.Step))
}

// ownApp loads an app of the signed-in user by the URL's id.
func (h *Handlers) ownApp(c echo.Context) (*store.App, error) {
	return h.DB.AppOfOwner(c.Request().Context(), c.Param("id"), CurrentUser(c).ID)
}

func stepParam(c echo.Context) (int, error) {
	n, err := strconv.Atoi(c.Param("step"))
	if err != nil || n < 1 || n > views.StepCount {
		return 0, apperr.New(apperr.NotFound, "There is no such step.")
	}
	return n, nil
}

// wizardStep shows a step of a draft. A finished app shows its review
// only: it changes by being edited into a new version.
func (h *Handlers) wizardStep(c echo.Context) error {
	a, err := h.ownApp(c)
	if err != nil {
		return err
	}
	step, err := stepParam(c)
	if err != nil {
		return err
	}
	if !a.IsDraft() && step != views.StepReview {
		return web.Redirect(c, "/apps/"+a.ID)
	}
	if _, ok := h.Catalog.Platform(a.Platform); !ok && step > views.StepPlatform {
		return web.Redirect(c, views.StepURL(a.ID, views.StepPlatform))
	}
	st := &stepState{app: a, step: step, errs: views.Messages{}}
	if step == views.StepReview && a.IsDraft() && a.Step != step {
		// Reaching the review is where a closed tab resumes.
		a.Step = step
		if err := h.DB.UpdateApp(c.Request().Context(), a); err != nil {
			return err
		}
	}
	return h.renderStep(c, st, http.StatusOK)
}

// wizardSave reads a step's form. Back and "Save and close" keep what was
// typed without judging it; Next validates the step and, when it passes,
// saves and moves on, else shows the step again with its messages and the
// values as typed. htmx requests for the component list and the model
// editor save and answer the partial.
func (h *Handlers) wizardSave(c echo.Context) error {
	before, err := h.ownApp(c)
	if err != nil {
		return err
	}
	step, err := stepParam(c)
	if err != nil {
		return err
	}
	if !before.IsDraft() {
		return apperr.New(apperr.Conflict, "This app is finished: edit it into a new version to change it.")
	}
	if step == views.StepReview {
		return web.Redirect(c, views.StepURL(before.ID, step))
	}
	perr := parseRequestForm(c)
	if perr != nil && step != views.StepCustom {
		return perr
	}
	cand := *before
	st := &stepState{app: &cand, step: step, errs: views.Messages{}}
	nav := c.Request().Form.Get("nav")
	if step == views.StepCustom && nav == "" {
		nav = "upload"
	}
	if done, err := h.readStep(c, st, before, perr); done || err != nil {
		return err
	}
	if nav == "back" || nav == "close" || nav == "upload" {
		return h.saveUnchecked(c, st, before, nav)
	}
	return h.saveAndAdvance(c, st, before)
}

// readStep reads a step's fields into the draft. done says that the
// request has been answered already: a partial redrawn, an upload handled,
// or a form that could not be read.
func (h *Handlers) readStep(c echo.Context, st *stepState, before *store.App, perr error) (done bool, err error) {
	cand, form := st.app, c.Request().Form
	switch st.step {
	case views.StepPlatform:
		cand.Name = strings.TrimSpace(form.Get("name"))
		cand.Platform, cand.Version = form.Get("platform"), form.Get("version")
		if cand.Platform != before.Platform || cand.Version != before.Version {
			pruneComponents(h.Catalog, cand)
		}
	case views.StepComponents:
		cand.SetComponents(formList(form, "components"))
		// Not a page or a partial: a swap saves the list, anything else
		// goes on to the step's save.
		if web.GetHTMX(c).Swaps("component-list") {
			return true, h.saveComponentList(c, cand)
		}
	case views.StepCustom:
		if perr != nil {
			st.errs["file"] = apperr.Message(perr)
			return true, h.renderStep(c, st, web.Status(apperr.Code(perr)))
		}
		cand.SetCustomComponents(formList(form, "custom_components"))
		return h.wizardUpload(c, st)
	case views.StepModel:
		m := parseModelForm(form)
		if op := form.Get("op"); op != "" {
			p, _ := h.Catalog.Platform(cand.Platform)
			applyModelOp(&m, op, modelSchemaOf(p))
			cand.SetModel(clampModel(m, modelSchemaOf(p)))
			return true, h.saveModelEdit(c, st)
		}
		cand.SetModel(m)
	case views.StepEnvironment:
		cand.Environment = form.Get("environment")
		raw := strings.TrimSpace(form.Get("replicas"))
		if n, err := strconv.Atoi(raw); err == nil {
			cand.Replicas = n
		} else {
			st.replicasRaw = raw
			st.errs["replicas"] = "Enter a whole number of replicas."
		}
	}
	return false, nil
}

// saveUnchecked keeps a draft as typed, tidied but not validated, when
// the user goes back, closes the wizard or uploads a component.
func (h *Handlers) saveUnchecked(c echo.Context, st *stepState, before *store.App, nav string) error {
	ctx, cand, step := c.Request().Context(), st.app, st.step
	h.keepLenient(ctx, before, cand, step)
	switch nav {
	case "back":
		cand.Step = max(step-1, 1)
	default:
		cand.Step = step
	}
	if err := h.DB.UpdateApp(ctx, cand); err != nil {
		return err
	}
	switch nav {
	case "close":
		return web.Redirect(c, "/apps")
	case "upload":
		return h.renderStep(c, st, http.StatusOK)
	}
	return web.Redirect(c, views.StepURL(cand.ID, cand.Step))
}

// saveAndAdvance validates the step and moves on to the next, or
// re-renders the step with its errors.
func (h *Handlers) saveAndAdvance(c echo.Context, st *stepState, before *store.App) error {
	ctx, cand, step := c.Request().Context(), st.app, st.step
	errs, err := h.validateApp(ctx, cand, forNewVersion(before, cand.Version))
	if err != nil {
		return err
	}
	for f, msg := range errorsOfStep(errs, step) {
		if _, ok := st.errs[f]; !ok {
			st.errs[f] = msg
		}
	}
	if len(st.errs) > 0 {
		return h.renderStep(c, st, http.StatusUnprocessableEntity)
	}
	cand.Step = step + 1
	if err := h.DB.UpdateApp(ctx, cand); err != nil {
		return err
	}
	return web.Redirect(c, views.StepURL(cand.ID, cand.Step))
}

// keepLenient tidies a draft before a save without validation, so that it
// holds nothing a rule would refuse unseen and nothing unbounded: a
// platform or version that the first step refuses, an unknown
// environment, a replicas count that is not a number, components the
// version does not offer, custom components that are not the owner's, and
// a model beyond the schema's limits are left out or kept as they were.
func (h *Handlers) keepLenient(ctx context.Context, before, cand *store.App, step int) {
	cand.Name = clampText(cand.Name, maxTextLength)
	switch step {
	case views.StepPlatform:
		if errs := h.Catalog.ValidatePlatform(assemblyOf(cand), forNewVersion(before, cand.Version)); len(errs) > 0 {
			cand.Platform, cand.Version = before.Platform, before.Version
			cand.SetComponents(before.Components())
		}
	case views.StepComponents:
		h.componentList(cand)
	case views.StepCustom:
		if owned, err := h.ownedComponents(ctx, cand); err == nil {
			ids := make([]string, len(owned))
			for i, cc := range owned {
				ids[i] = cc.ID
			}
			cand.SetCustomComponents(ids)
		} else {
			cand.SetCustomComponents(before.CustomComponents())
		}
	case views.StepModel:
		p, _ := h.Catalog.Platform(cand.Platform)
		cand.SetModel(clampModel(cand.Model(), modelSchemaOf(p)))
	case views.StepEnvironment:
		if _, ok := h.Catalog.Environment(cand.Environment); !ok {
			cand.Environment = before.Environment
		}
	}
	if cand.Replicas < 1 {
		cand.Replicas = before.Replicas
	}
}

// saveComponentList saves a click on the component list and answers the
// list re-rendered: requirements added, conflicts disabled.
func (h *Handlers) saveComponentList(c echo.Context, a *store.App) error {
	list := h.componentList(a)
	if err := h.DB.UpdateApp(c.Request().Context(), a); err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.ComponentChoices(list))
}

// saveModelEdit saves the model after a document type or field was added
// or removed, and answers the editor (htmx) or the whole step.
func (h *Handlers) saveModelEdit(c echo.Context, st *stepState) error {
	st.app.Step = views.StepModel
	if err := h.DB.UpdateApp(c.Request().Context(), st.app); err != nil {
		return err
	}
	p, _ := h.Catalog.Platform(st.app.Platform)
	editor := views.ModelEditor(modelForm(st.app.Model(), modelSchemaOf(p), views.StepURL(st.app.ID, views.StepModel), st.errs))
	return web.RenderEither(c, http.StatusOK, h.stepPage(c, st), editor)
}

// wizardVersions answers the versions of a platform for step 1 (htmx).
// Deprecated versions are left out, but for an app that already has one.
func (h *Handlers) wizardVersions(c echo.Context) error {
	keep := ""
	if id := c.Param("id"); id != "" {
		a, err := h.ownApp(c)
		if err != nil {
			return err
		}
		keep = a.Version
	}
	platform := c.QueryParam("platform")
	return web.Render(c, http.StatusOK, views.VersionChoices(h.versionList(platform, "", keep)))
}

// wizardReplicas answers the replicas field for the environment chosen on step 5 (htmx).
func (h *Handlers) wizardReplicas(c echo.Context) error {
	a, err := h.ownApp(c)
	if err != nil {
		return err
	}
	a.Environment = c.QueryParam("environment")
	raw := c.QueryParam("replicas")
	return web.Render(c, http.StatusOK, views.ReplicasInput(h.replicasField(a, raw, "")))
}

// componentList is step 2's list for an app, whose selection it brings in
// line with the version and the requirements.
func (h *Handlers) componentList(a *store.App) views.ComponentList {
	list := views.ComponentList{AppID: a.ID}
	p, ok := h.Catalog.Platform(a.Platform)
	if !ok {
		return list
	}
	items, effective := componentChoices(p, a.Version, a.Components())
	list.Items = items
	if !slices.Equal(effective, a.Components()) {
		a.SetComponents(effective)
	}
	if errs := h.Catalog.ValidateComponents(assemblyOf(a)); len(errs) > 0 {
		for _, e := range errs {
			if e.Field == "components" {
				list.Error = e.Message
				break
			}
		}
	}
	return list
}
