package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
	"appfactory/views"
)

// maxJSONBody bounds an API request's JSON body.
const maxJSONBody = 1 << 20

// AppJSON is the API's view of an app.
type AppJSON struct {
	ID                string       `json:"id"`
	OwnerID           string       `json:"owner_id"`
	Name              string       `json:"name"`
	Status            string       `json:"status"`
	Revision          int          `json:"revision"`
	ParentID          string       `json:"parent_id,omitempty"`
	Platform          string       `json:"platform"`
	Version           string       `json:"version"`
	Components        []string     `json:"components"`
	CustomComponents  []string     `json:"custom_components"`
	Environment       string       `json:"environment"`
	Replicas          int          `json:"replicas"`
	Model             domain.Model `json:"model"`
	DeployRequestedAt *time.Time   `json:"deploy_requested_at,omitempty"`
	CreatedAt         time.Time    `json:"created_at"`
	UpdatedAt         time.Time    `json:"updated_at"`
}

// appRequest is the body of POST and PUT /api/v1/apps; replicas defaults to 1.
type appRequest struct {
	Name             string       `json:"name"`
	Platform         string       `json:"platform"`
	Version          string       `json:"version"`
	Components       []string     `json:"components"`
	CustomComponents []string     `json:"custom_components"`
	Environment      string       `json:"environment"`
	Replicas         *int         `json:"replicas"`
	Model            domain.Model `json:"model"`
}

func appJSON(a *store.App) AppJSON {
	j := AppJSON{ID: a.ID, OwnerID: a.OwnerID, Name: a.Name, Status: a.Status, Revision: a.Revision, ParentID: a.ParentID.String,
		Platform: a.Platform, Version: a.Version, Components: a.Components(), CustomComponents: a.CustomComponents(),
		Environment: a.Environment, Replicas: a.Replicas, Model: a.Model().WithLists(),
		CreatedAt: a.CreatedAt.Time, UpdatedAt: a.UpdatedAt.Time}
	if t := a.DeployRequestedAt.Time; !t.IsZero() {
		j.DeployRequestedAt = &t
	}
	return j
}

// registerAppsAPI installs the JSON API of the catalog, apps and components.
func (h *Handlers) registerAppsAPI(e *echo.Echo) {
	g := e.Group("/api/v1", h.APIAuth)
	g.GET("/catalog", h.apiCatalog)
	g.GET("/apps", h.apiListApps)
	g.POST("/apps", h.apiCreateApp)
	g.GET("/apps/:id", h.apiGetApp)
	g.PUT("/apps/:id", h.apiUpdateApp)
	g.DELETE("/apps/:id", h.apiDeleteApp)
	g.GET("/components", h.apiListComponents)
	g.POST("/components", h.apiUploadComponent, limitBody(maxUploadBody))
}

// decodeJSON reads a JSON body strictly: one object, no unknown fields.
func decodeJSON(c echo.Context, v any) error {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxJSONBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "The request body is larger than %s.", bytesText(maxJSONBody))
		}
		return apperr.New(apperr.Invalid, "The request body is not a valid JSON object: %s.", jsonProblem(err))
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return apperr.New(apperr.Invalid, "The request body holds more than one JSON value.")
	}
	return nil
}

// jsonProblem says what is wrong with a body without echoing it back.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a %s", te.Field, te.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it is empty or cut short"
	}
	return err.Error() // e.g. json: unknown field "x"
}

// assembly turns a request into an assembly.
func (r appRequest) assembly() domain.Assembly {
	a := domain.Assembly{Name: r.Name, Platform: r.Platform, Version: r.Version, Components: r.Components,
		Custom: domain.CustomByID(r.CustomComponents), Environment: r.Environment, Replicas: 1, Model: r.Model}
	if r.Replicas != nil {
		a.Replicas = *r.Replicas
	}
	return a
}

// firstProblem is the API's answer to an invalid assembly: the first
// problem, its message naming the field.
func firstProblem(errs []*apperr.Error) error {
	e := errs[0]
	return apperr.FieldError(e.Code, e.Field, "%s: %s", e.Field, e.Message)
}

func (h *Handlers) apiCreateApp(c echo.Context) error {
	ctx := c.Request().Context()
	var req appRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a := &store.App{OwnerID: CurrentUser(c).ID, Status: store.AppReady, Step: views.StepReview}
	applyAssembly(a, req.assembly())
	errs, err := h.validateApp(ctx, a, true)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return firstProblem(errs)
	}
	if err := h.DB.CreateApp(ctx, a); err != nil {
		return err
	}
	h.Logger.Info("app created", "app", a.ID, "user", a.OwnerID, "via", "api")
	return c.JSON(http.StatusCreated, appJSON(a))
}

func (h *Handlers) apiUpdateApp(c echo.Context) error {
	ctx := c.Request().Context()
	before, err := h.ownApp(c)
	if err != nil {
		return err
	}
	var req appRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a := *before
	applyAssembly(&a, req.assembly())
	a.Status, a.Step = store.AppReady, views.StepReview
	errs, err := h.validateApp(ctx, &a, forNewVersion(before, a.Version))
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return firstProblem(errs)
	}
	if err := h.DB.UpdateApp(ctx, &a); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, appJSON(&a))
}

// apiListApps lists the user's apps; ?all=1 lists everyone's for sales and admins.
func (h *Handlers) apiListApps(c echo.Context) error {
	u := CurrentUser(c)
	var apps []store.App
	var err error
	if c.QueryParam("all") == "1" {
		if !u.IsStaff() {
			return apperr.New(apperr.Forbidden, "Only sales and admins can list every app.")
		}
		apps, err = h.DB.AllApps(c.Request().Context())
	} else {
		apps, err = h.DB.AppsOfOwner(c.Request().Context(), u.ID)
	}
	if err != nil {
		return err
	}
	out := make([]AppJSON, len(apps))
	for i := range apps {
		out[i] = appJSON(&apps[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"apps": out})
}

func (h *Handlers) apiGetApp(c echo.Context) error {
	a, err := h.readableApp(c.Request().Context(), CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, appJSON(a))
}

func (h *Handlers) apiDeleteApp(c echo.Context) error {
	if err := h.DB.DeleteApp(c.Request().Context(), c.Param("id"), CurrentUser(c).ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
