package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/orchestrator/metrics"
	"appfactory/orchestrator/monitor"
	"appfactory/store"
)

// fakeControl records the admin's bulk actions.
type fakeControl struct {
	mu                  sync.Mutex
	passivated, deleted []string
}

func (f *fakeControl) Passivate(_ context.Context, id, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.passivated = append(f.passivated, id)
	return nil
}

func (f *fakeControl) Delete(_ context.Context, id, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, id)
	return nil
}

// fakeCapacity answers a fixed capacity.
type fakeCapacity struct{}

func (fakeCapacity) Capacity(context.Context) (monitor.Capacity, error) {
	return monitor.Capacity{HostMemBytes: 8 << 30, HostCPUs: 2, ReservedMemBytes: 1 << 30, RunningTenants: 2, MoreTenants: 14}, nil
}

// monitoringEnv is a portal with monitoring wired to fakes, and one tenant
// owned by a prospect.
type monitoringEnv struct {
	*handlerstest.Env
	control *fakeControl
	owner   *store.User
	tenant  *store.Tenant
}

func newMonitoringEnv(t *testing.T) *monitoringEnv {
	t.Helper()
	ctl := &fakeControl{}
	reg := metrics.NewRegistry()
	m := metrics.NewMetrics(reg)
	m.ProxyRequest(200)
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		if err := metrics.RegisterTenantStates(reg, h.DB.TenantStateCounts, nil); err != nil {
			t.Fatal(err)
		}
		h.Monitoring = handlers.Monitoring{Metrics: reg, Control: ctl, Capacity: fakeCapacity{}}
	})
	owner := env.CreateUser(t, "owner@example.com", store.RoleProspect)
	ctx := context.Background()
	app := &store.App{OwnerID: owner.ID, Name: "Contracts", Platform: "contentapp", Version: "1.0", Environment: "trial"}
	if err := env.DB.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	tenant := &store.Tenant{AppID: app.ID, OwnerID: owner.ID, CreatedBy: owner.ID, Slug: "contracts-acme", Title: "Contracts",
		Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1,
		ExpiresAt: store.TimeOf(time.Now().Add(72 * time.Hour))}
	if err := env.DB.CreateTenant(ctx, tenant, 0); err != nil {
		t.Fatal(err)
	}
	if err := env.DB.SetTenantState(ctx, tenant.ID, domain.StateRunning, "running"); err != nil {
		t.Fatal(err)
	}
	now := env.DB.Now()
	if err := env.DB.AddTenantStats(ctx, now.Add(-time.Minute), []store.TenantStat{{TenantID: tenant.ID, CPUPercent: 3.5, MemBytes: 40 << 20}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.SampleHost(ctx, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	return &monitoringEnv{Env: env, control: ctl, owner: owner, tenant: tenant}
}

func TestMonitoringPagesByRole(t *testing.T) {
	e := newMonitoringEnv(t)
	admin := e.SignUp(t, "admin@example.com", store.RoleAdmin)
	sales := e.SignUp(t, "sales@example.com", store.RoleSales)
	owner := e.Visitor(t)
	owner.Login(t, "owner@example.com", handlerstest.Password)
	other := e.SignUp(t, "other@example.com", store.RoleProspect)
	visitor := e.Visitor(t)
	tid := e.tenant.ID
	cases := []struct {
		name   string
		client *handlerstest.Client
		path   string
		status int
		want   []string
	}{
		{"admin dashboard", admin, "/admin", 200, []string{"contracts-acme", "<svg", "owner@example.com", "Activations per hour", "14"}},
		{"dashboard refused to sales", sales, "/admin", 403, nil},
		{"dashboard refused to prospects", other, "/admin", 403, nil},
		{"dashboard sends visitors to sign in", visitor, "/admin", 303, nil},
		{"resources for the owner", owner, "/tenants/" + tid + "/stats", 200, []string{"<svg", "3.5% CPU", "40 MiB"}},
		{"resources for sales", sales, "/tenants/" + tid + "/stats", 200, []string{"<svg"}},
		{"resources hidden from others", other, "/tenants/" + tid + "/stats", 404, nil},
		{"tenant page for the owner", owner, "/tenants/" + tid, 200, []string{"<svg", "CPU use, last 24 hours", "data-log-stream=\"/tenants/" + tid + "/logs/stream\"", "Events"}},
		{"tenant page lets sales extend", sales, "/tenants/" + tid, 200, []string{"<svg", "Extend the trial", "left)"}},
		{"tenant page hidden from others", other, "/tenants/" + tid, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := c.client.Get(t, c.path)
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != c.status {
				t.Fatalf("GET %s = %d, want %d\n%.500s", c.path, resp.StatusCode, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q", c.path, w)
				}
			}
		})
	}
}

// TestTenancyChartEndsAtTheCurrentCounts: the running and passivated lines
// end at the counts the cards show, even when the last sample is older
// than the latest change.
func TestTenancyChartEndsAtTheCurrentCounts(t *testing.T) {
	e := newMonitoringEnv(t)
	admin := e.SignUp(t, "admin@example.com", store.RoleAdmin)
	if err := e.DB.SetTenantState(context.Background(), e.tenant.ID, domain.StatePassivated, "idle"); err != nil {
		t.Fatal(err)
	}
	body := handlerstest.Body(t, admin.Get(t, "/admin"))
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<title>running [A-Z][a-z]{2} \d+ \d\d:\d\d: 1 tenants</title>`),    // the sample
		regexp.MustCompile(`<title>passivated [A-Z][a-z]{2} \d+ \d\d:\d\d: 1 tenants</title>`), // now
		regexp.MustCompile(`now 0 running and 1 passivated`),
	} {
		if !want.MatchString(body) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
}

func TestTrialExtensionOnTheTenantPage(t *testing.T) {
	e := newMonitoringEnv(t)
	ext := &fakeExtender{}
	e.Handlers.Monitoring.Extender = ext
	owner := e.Visitor(t)
	owner.Login(t, "owner@example.com", handlerstest.Password)
	if body := handlerstest.Body(t, owner.Get(t, "/tenants/"+e.tenant.ID)); strings.Contains(body, "Extend the trial") || !strings.Contains(body, "Trial: ends") {
		t.Error("the owner is offered the extension, or not told when the trial ends")
	}
	if resp := owner.PostForm(t, "/sales/tenants/"+e.tenant.ID+"/extend", url.Values{"days": {"7"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("owner extending: %d", resp.StatusCode)
	}
	sales := e.SignUp(t, "sales@example.com", store.RoleSales)
	resp := sales.PostForm(t, "/sales/tenants/"+e.tenant.ID+"/extend", url.Values{"days": {"7"}, "back": {"tenant"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tenants/"+e.tenant.ID || len(ext.calls) != 1 {
		t.Errorf("extend from the tenant page: %d %s %v", resp.StatusCode, resp.Header.Get("Location"), ext.calls)
	}
}

func TestAdminTableFiltersAsPartialAndBulkActions(t *testing.T) {
	e := newMonitoringEnv(t)
	admin := e.SignUp(t, "admin@example.com", store.RoleAdmin)
	get := func(q url.Values, htmx bool) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/admin?"+q.Encode(), nil)
		if htmx {
			req.Header.Set("HX-Request", "true")
			req.Header.Set("HX-Target", "tenant-table")
		}
		resp := admin.Do(t, req)
		body := handlerstest.Body(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /admin?%s = %d", q.Encode(), resp.StatusCode)
		}
		return body
	}
	partial := get(url.Values{"q": {"contracts"}}, true)
	if strings.Contains(partial, "<html") || !strings.Contains(partial, `id="tenant-table"`) || !strings.Contains(partial, "contracts-acme") {
		t.Errorf("htmx search did not answer the table alone:\n%.400s", partial)
	}
	if none := get(url.Values{"q": {"nothing-like-it"}}, true); strings.Contains(none, "contracts-acme") || !strings.Contains(none, "No tenant matches") {
		t.Error("a search without match still lists the tenant")
	}
	if byOwner := get(url.Values{"owner": {"OWNER@example.com"}, "state": {"running"}, "sort": {"slug"}, "dir": {"asc"}}, false); !strings.Contains(byOwner, "contracts-acme") {
		t.Error("owner and state filter lost the tenant")
	}

	resp := admin.PostForm(t, "/admin/tenants/bulk", url.Values{"ids": {e.tenant.ID}, "action": {"passivate"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk passivate = %d", resp.StatusCode)
	}
	if !strings.Contains(handlerstest.Body(t, admin.Get(t, "/admin")), "1 tenant passivated.") {
		t.Error("no flash after the bulk action")
	}
	resp = admin.PostForm(t, "/admin/tenants/bulk", url.Values{"ids": {e.tenant.ID}, "action": {"delete"}})
	resp.Body.Close()
	if !slices.Equal(e.control.passivated, []string{e.tenant.ID}) || !slices.Equal(e.control.deleted, []string{e.tenant.ID}) {
		t.Errorf("control saw passivate %v, delete %v", e.control.passivated, e.control.deleted)
	}
	// Without the CSRF token the form is refused.
	resp = admin.PostForm(t, "/admin/tenants/bulk", url.Values{"ids": {e.tenant.ID}, "action": {"delete"}, "csrf_token": {"forged"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged bulk delete = %d, want 403", resp.StatusCode)
	}
}

func TestMonitoringAPI(t *testing.T) {
	e := newMonitoringEnv(t)
	adminTok := e.Token(t, e.CreateUser(t, "admin@example.com", store.RoleAdmin).ID)
	salesTok := e.Token(t, e.CreateUser(t, "sales@example.com", store.RoleSales).ID)
	ownerTok := e.Token(t, e.owner.ID)
	otherTok := e.Token(t, e.CreateUser(t, "other@example.com", store.RoleProspect).ID)
	tid := e.tenant.ID
	call := func(t *testing.T, tok, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		name, tok, path string
		status          int
	}{
		{"events for the owner", ownerTok, "/api/v1/tenants/" + tid + "/events", 200},
		{"events for sales", salesTok, "/api/v1/tenants/" + tid + "/events", 200},
		{"events hidden from others", otherTok, "/api/v1/tenants/" + tid + "/events", 404},
		{"events need a token", "", "/api/v1/tenants/" + tid + "/events", 401},
		{"stats for the owner", ownerTok, "/api/v1/tenants/" + tid + "/stats", 200},
		{"stats hidden from others", otherTok, "/api/v1/tenants/" + tid + "/stats", 404},
		{"logs of a deployment without containers", ownerTok, "/api/v1/tenants/" + tid + "/logs", 200},
		{"logs hidden from others", otherTok, "/api/v1/tenants/" + tid + "/logs", 404},
		{"summary for admins", adminTok, "/api/v1/admin/summary", 200},
		{"summary refused to sales", salesTok, "/api/v1/admin/summary", 403},
		{"metrics for admins", adminTok, "/metrics", 200},
		{"metrics refused to sales", salesTok, "/metrics", 403},
		{"metrics need credentials", "", "/metrics", 401},
		{"metrics refuse a bad token", "nonsense", "/metrics", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := call(t, c.tok, c.path)
			if status != c.status {
				t.Fatalf("GET %s = %d, want %d: %s", c.path, status, c.status, body)
			}
		})
	}
	t.Run("shapes", func(t *testing.T) {
		_, body := call(t, ownerTok, "/api/v1/tenants/"+tid+"/events")
		var ev struct {
			Events []handlers.EventJSON `json:"events"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil || len(ev.Events) < 2 || ev.Events[0].At.IsZero() {
			t.Errorf("events %s (%v)", body, err)
		}
		_, body = call(t, ownerTok, "/api/v1/tenants/"+tid+"/events?after="+itoa(ev.Events[0].ID))
		var after struct {
			Events []handlers.EventJSON `json:"events"`
		}
		json.Unmarshal([]byte(body), &after)
		if len(after.Events) != len(ev.Events)-1 {
			t.Errorf("after the first: %d events of %d", len(after.Events), len(ev.Events))
		}
		_, body = call(t, ownerTok, "/api/v1/tenants/"+tid+"/stats")
		var st struct {
			Stats []map[string]any `json:"stats"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.Stats) != 1 || st.Stats[0]["mem_bytes"].(float64) != 40<<20 || st.Stats[0]["at"] == nil {
			t.Errorf("stats %s (%v)", body, err)
		}
		_, body = call(t, adminTok, "/api/v1/admin/summary")
		var sum handlers.AdminSummary
		if err := json.Unmarshal([]byte(body), &sum); err != nil || sum.Counts["running"] != 1 || sum.Live != 1 || sum.Capacity == nil || sum.Capacity.MoreTenants != 14 {
			t.Errorf("summary %s (%v)", body, err)
		}
		if status, body := call(t, adminTok, "/metrics"); status != 200 || !strings.Contains(body, `appfactory_tenants{state="running"} 1`) || !strings.Contains(body, "go_goroutines") {
			t.Errorf("metrics:\n%.600s", body)
		}
	})
	t.Run("metrics by admin session", func(t *testing.T) {
		admin := e.Visitor(t)
		admin.Login(t, "admin@example.com", handlerstest.Password)
		if resp := admin.Get(t, "/metrics"); resp.StatusCode != 200 {
			t.Errorf("admin session: %d", resp.StatusCode)
		}
		sales := e.Visitor(t)
		sales.Login(t, "sales@example.com", handlerstest.Password)
		if resp := sales.Get(t, "/metrics"); resp.StatusCode != 403 {
			t.Errorf("sales session: %d", resp.StatusCode)
		}
	})
	t.Run("metrics refused to a browser with a page", func(t *testing.T) {
		sales := e.Visitor(t)
		sales.Login(t, "sales@example.com", handlerstest.Password)
		for _, c := range []struct {
			name   string
			client *handlerstest.Client
			status int
		}{
			{"sales", sales, 403},
			{"nobody", e.Visitor(t), 401},
		} {
			req, _ := http.NewRequest(http.MethodGet, e.URL+"/metrics", nil)
			req.Header.Set("Accept", "text/html,application/xhtml+xml")
			resp := c.client.Do(t, req)
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Contains(body, `{"error"`) {
				t.Errorf("%s: %d %s\n%.300s", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestMyTenantsOnAppsPage(t *testing.T) {
	e := newMonitoringEnv(t)
	owner := e.Visitor(t)
	owner.Login(t, "owner@example.com", handlerstest.Password)
	other := e.SignUp(t, "other@example.com", store.RoleProspect)
	body := handlerstest.Body(t, owner.Get(t, "/apps"))
	for _, w := range []string{`id="my-tenants"`, `hx-get="/apps/deployments"`, "contracts-acme", "left", "Open http://contracts-acme.localhost"} {
		if !strings.Contains(body, w) {
			t.Errorf("/apps lacks %q", w)
		}
	}
	part := handlerstest.Body(t, owner.Get(t, "/apps/deployments"))
	if strings.Contains(part, "<html") || !strings.Contains(part, `data-state="running"`) {
		t.Errorf("partial:\n%.400s", part)
	}
	if strings.Contains(handlerstest.Body(t, other.Get(t, "/apps/deployments")), "contracts-acme") {
		t.Error("another prospect sees the tenant")
	}
	if resp := e.Visitor(t).Get(t, "/apps/deployments"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("visitor: %d", resp.StatusCode)
	}
}

// TestAdminDashboardAt10000Tenants renders the dashboard and its table
// partial over 10,000 tenants (with a day of host samples and activations)
// and logs how long each takes.
func TestAdminDashboardAt10000Tenants(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 tenants")
	}
	env := handlerstest.NewServer(t)
	admin := env.SignUp(t, "admin@example.com", store.RoleAdmin)
	now := env.DB.Now()
	seedDashboard(t, env.DB, now)
	for _, c := range []struct {
		name, path string
		htmx       bool
	}{
		{"whole dashboard", "/admin", false},
		{"table, filtered", "/admin?state=failed&sort=active", true},
		{"table, searched", "/admin?q=tenant-0999", true},
		{"table, last page", "/admin?page=200", true},
	} {
		req, _ := http.NewRequest(http.MethodGet, env.URL+c.path, nil)
		if c.htmx {
			req.Header.Set("HX-Request", "true")
			req.Header.Set("HX-Target", "tenant-table")
		}
		start := time.Now()
		resp := admin.Do(t, req)
		body := handlerstest.Body(t, resp)
		took := time.Since(start)
		if resp.StatusCode != 200 || !strings.Contains(body, "tenant-") {
			t.Fatalf("%s: %d", c.name, resp.StatusCode)
		}
		// The figure is logged, not bounded: the store's benchmarks time
		// the queries behind it (BenchmarkTenantTableAt10000Tenants).
		t.Logf("%s: %v (%d KiB)", c.name, took.Round(time.Millisecond), len(body)>>10)
	}
}

// seedDashboard writes 2,000 prospects with 10,000 tenants between them,
// each last active a minute before the one before it, and a day of host
// samples and activations up to now.
func seedDashboard(t *testing.T, db *store.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	states := []string{"running", "passivated", "passivated", "paused", "failed"}
	for i := range 2000 {
		u := &store.User{ID: fmt.Sprintf("u%05d", i), Email: fmt.Sprintf("p%05d@example.com", i), Name: "P", PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10000 {
		owner := fmt.Sprintf("u%05d", i%2000)
		app := &store.App{ID: fmt.Sprintf("a%05d", i), OwnerID: owner, Name: fmt.Sprintf("App %d", i)}
		if err := db.CreateApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		tn := &store.Tenant{ID: fmt.Sprintf("t%05d", i), AppID: app.ID, OwnerID: owner, CreatedBy: owner, Slug: fmt.Sprintf("tenant-%05d", i),
			Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1,
			DesiredState: domain.DesiredRunning, State: states[i%len(states)]}
		if err := db.CreateTenant(ctx, tn, 0); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchTenant(ctx, tn.ID, now.Add(-time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	for m := range 24 * 60 {
		at := now.Add(-time.Duration(m) * time.Minute)
		if err := db.AddHostSample(ctx, store.HostSample{At: store.TimeOf(at), Running: 4000, Passivated: 4000, Total: 10000}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordActivation(ctx, "t00001", at, 400*time.Millisecond, "a browser"); err != nil {
			t.Fatal(err)
		}
	}
}
