package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// TenantJSON is the API's view of a deployment (tenant).
type TenantJSON struct {
	ID           string     `json:"id"`
	Slug         string     `json:"slug"`
	AppID        string     `json:"app_id"`
	OwnerID      string     `json:"owner_id"`
	CreatedBy    string     `json:"created_by"`
	Title        string     `json:"title"`
	State        string     `json:"state"`
	DesiredState string     `json:"desired_state"`
	StateMessage string     `json:"state_message"`
	Paused       bool       `json:"paused"`
	URL          string     `json:"url"`
	Platform     string     `json:"platform"`
	Version      string     `json:"version"`
	Environment  string     `json:"environment"`
	Replicas     int        `json:"replicas"`
	Generation   int64      `json:"generation"`
	Image        string     `json:"image,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	LastActiveAt *time.Time `json:"last_active_at"`
	// Actions are the actions the user may ask of the tenant in its current
	// state; any other answers 409.
	Actions []string `json:"actions"`
	// Wake says why the tenant is awake and Policy how it sleeps; only GET
	// /api/v1/tenants/{id} fills them.
	Wake   *WakeJSON   `json:"wake,omitempty"`
	Policy *PolicyJSON `json:"policy,omitempty"`
}

// WakeJSON says why a tenant is awake: its cold starts, what woke it
// last, its latest real request and, over the last 7 days, its cold starts
// with their durations, the share of time asleep and the time awake
// without use.
type WakeJSON struct {
	ColdStarts      int             `json:"cold_starts"`
	LastWokenBy     string          `json:"last_woken_by,omitempty"`
	LastWokenAt     *time.Time      `json:"last_woken_at,omitempty"`
	LastActivity    *ActivityJSON   `json:"last_activity,omitempty"`
	ColdStarts7d    []ColdStartJSON `json:"cold_starts_7d"`
	AsleepShare7d   float64         `json:"asleep_share_7d"`
	AwakeSeconds7d  float64         `json:"awake_seconds_7d"`
	UnusedSeconds7d float64         `json:"unused_seconds_7d"`
}

// EventJSON is one event of a deployment.
type EventJSON struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *Handlers) tenantJSON(u *store.User, t *store.Tenant) TenantJSON {
	j := TenantJSON{ID: t.ID, Slug: t.Slug, AppID: t.AppID, OwnerID: t.OwnerID, CreatedBy: t.CreatedBy, Title: t.Title,
		State: t.State, DesiredState: t.DesiredState, StateMessage: t.StateMessage, Paused: t.Paused,
		Platform: t.Platform, Version: t.Version, Environment: t.Environment, Replicas: t.Replicas,
		Generation: t.Generation, Image: t.Image, CreatedAt: t.CreatedAt.Time,
		ExpiresAt: optTime(t.ExpiresAt.Time), LastActiveAt: optTime(t.LastActiveAt.Time),
		URL: h.Orchestrator.TenantURL(t.Slug), Actions: h.tenantActions(u, t)}
	return j
}

// registerTenantsAPI installs the deployments' JSON API.
func (h *Handlers) registerTenantsAPI(e *echo.Echo) {
	g := e.Group("/api/v1", h.APIAuth)
	g.POST("/apps/:id/deploy", h.apiDeploy)
	g.GET("/tenants", h.apiListTenants)
	g.GET("/tenants/:id", h.apiGetTenant)
	g.GET("/tenants/:id/events", h.apiTenantEvents)
	g.GET("/tenants/:id/build", h.apiTenantBuild)
	g.DELETE("/tenants/:id", h.apiDeleteTenant)
	g.POST("/tenants/:id/restart", h.apiRestartTenant)
	g.POST("/tenants/:id/upgrade", h.apiUpgradeTenant)
	g.GET("/tenants/:id/policy", h.apiTenantPolicy)
	g.PUT("/tenants/:id/policy", h.apiSetTenantPolicy)
}

// apiDeploy deploys an app: 202 with the new deployment, which builds and
// starts in the background (poll GET /api/v1/tenants/{id}).
func (h *Handlers) apiDeploy(c echo.Context) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	o := h.Orchestrator
	if c.Request().ContentLength != 0 {
		var body struct{}
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
	}
	a, err := h.deployableApp(ctx, u, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.mayDeploy(u); err != nil {
		return err
	}
	t, err := o.DeployApp(ctx, a, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, h.tenantJSON(u, t))
}

// apiListTenants lists the user's deployments; sales and admins see all.
func (h *Handlers) apiListTenants(c echo.Context) error {
	u := CurrentUser(c)
	f := store.TenantFilter{VisibleTo: u.ID, AppID: c.QueryParam("app_id")}
	if u.IsStaff() {
		f.VisibleTo = ""
	}
	ts, err := h.DB.ListTenants(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]TenantJSON, len(ts))
	for i := range ts {
		out[i] = h.tenantJSON(u, &ts[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"tenants": out})
}

func (h *Handlers) apiGetTenant(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.tenantFor(ctx, CurrentUser(c), c.Param("id"), false)
	if err != nil {
		return err
	}
	f, err := h.sleepFacts(ctx, t)
	if err != nil {
		return err
	}
	j := h.tenantJSON(CurrentUser(c), t)
	j.Wake = wakeJSON(f, t.LastActiveAt.Time, t.LastRequest)
	pol := policyJSON(f)
	j.Policy = &pol
	return c.JSON(http.StatusOK, j)
}

// apiTenantEvents lists a deployment's events, oldest first; ?after=<id>
// returns only newer ones.
func (h *Handlers) apiTenantEvents(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.tenantFor(ctx, CurrentUser(c), c.Param("id"), false)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	evs, err := h.DB.ListEvents(ctx, t.ID, after, 500)
	if err != nil {
		return err
	}
	out := make([]EventJSON, len(evs))
	for i, e := range evs {
		out[i] = EventJSON{ID: e.ID, At: e.At.Time, Kind: e.Kind, Message: e.Message}
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out})
}

// BuildJSON is a deployment's latest image build with its output's tail.
type BuildJSON struct {
	Tag        string     `json:"tag"`
	Result     string     `json:"result"`
	Generation int64      `json:"generation"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at"`
	Log        string     `json:"log"`
}

// apiTenantBuild is the latest build of a deployment: a failed build's
// output says what went wrong.
func (h *Handlers) apiTenantBuild(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.tenantFor(ctx, CurrentUser(c), c.Param("id"), false)
	if err != nil {
		return err
	}
	b, err := h.DB.LastBuild(ctx, t.ID)
	if err != nil {
		return err
	}
	if b == nil {
		return apperr.New(apperr.NotFound, "This deployment has no build yet.")
	}
	return c.JSON(http.StatusOK, BuildJSON{Tag: b.Tag, Result: b.Result, Generation: b.Generation,
		StartedAt: b.StartedAt.Time, EndedAt: optTime(b.EndedAt.Time), Log: b.Log})
}

// tenantAction runs one change on a deployment the user may act on and
// answers 202 with the deployment as it now stands.
func (h *Handlers) tenantAction(c echo.Context, action string, op tenantOp) error {
	t, err := h.actOnTenant(c, action, op)
	if err != nil {
		return err
	}
	if t, err = h.DB.TenantByID(c.Request().Context(), t.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, h.tenantJSON(CurrentUser(c), t))
}

func (h *Handlers) apiDeleteTenant(c echo.Context) error {
	return h.tenantAction(c, domain.ActionDelete, deleteTenant)
}

func (h *Handlers) apiRestartTenant(c echo.Context) error {
	return h.tenantAction(c, domain.ActionRestart, restartTenant)
}

func (h *Handlers) apiUpgradeTenant(c echo.Context) error {
	var req struct {
		Version string `json:"version"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return h.tenantAction(c, domain.ActionUpgrade, h.upgradeTenant(req.Version))
}
