package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
	"appfactory/web"
)

// fakeOrchestrator records what it is asked and writes the desired state
// the way the real one does, without Docker.
type fakeOrchestrator struct {
	db    *store.DB
	mu    sync.Mutex
	calls []string
}

func (f *fakeOrchestrator) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeOrchestrator) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeOrchestrator) DeployApp(ctx context.Context, a *store.App, by *store.User) (*store.Tenant, error) {
	t := &store.Tenant{AppID: a.ID, OwnerID: a.OwnerID, CreatedBy: by.ID, Slug: strings.ToLower(strings.ReplaceAll(a.Name, " ", "-")) + "-" + store.NewID()[:4],
		Title: a.Name, Platform: a.Platform, Version: a.Version, Environment: a.Environment, Replicas: a.Replicas}
	if err := f.db.CreateTenant(ctx, t, 2); err != nil {
		return nil, err
	}
	f.record("deploy " + a.ID)
	return t, nil
}

func (f *fakeOrchestrator) Delete(ctx context.Context, t *store.Tenant, by *store.User) error {
	f.record("delete " + t.ID + " by " + by.Email)
	return f.db.SetDesiredState(ctx, t.ID, domain.DesiredDeleted)
}

func (f *fakeOrchestrator) Restart(_ context.Context, t *store.Tenant, by *store.User) error {
	f.record("restart " + t.ID + " by " + by.Email)
	return nil
}

func (f *fakeOrchestrator) Upgrade(_ context.Context, t *store.Tenant, by *store.User, v string) error {
	f.record("upgrade " + t.ID + " to " + v)
	return nil
}

func (f *fakeOrchestrator) UpgradeVersions(*store.Tenant) []catalog.Version {
	return []catalog.Version{{Version: "2.0", Label: "ContentApp 2.0"}}
}

func (f *fakeOrchestrator) TenantURL(slug string) string {
	return "http://" + slug + ".localhost:8080/"
}

func newTenantEnv(t *testing.T) (*handlerstest.Env, *fakeOrchestrator) {
	t.Helper()
	fo := &fakeOrchestrator{}
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		fo.db = h.DB
		h.Orchestrator = fo
	})
	return env, fo
}

// readyApp stores a finished app of the user.
func readyApp(t testing.TB, db *store.DB, owner *store.User, name string) *store.App {
	t.Helper()
	a := &store.App{OwnerID: owner.ID, Name: name, Status: store.AppReady, Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1}
	a.SetComponents([]string{"comments"})
	a.SetModel(domain.Model{Title: name + " Docs", Doctypes: []domain.Doctype{{Name: "Contract", Fields: []domain.Field{{Name: "amount", Type: "number"}}}}})
	if err := db.CreateApp(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// callAPI sends an API request with a bearer token and decodes the answer.
func callAPI(t *testing.T, env *handlerstest.Env, token, method, path, body string, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, env.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func TestTenantAPIDeployAndAccess(t *testing.T) {
	env, fo := newTenantEnv(t)
	owner := env.CreateUser(t, "owner@example.com", store.RoleProspect)
	other := env.CreateUser(t, "other@example.com", store.RoleProspect)
	sales := env.CreateUser(t, "sales@example.com", store.RoleSales)
	admin := env.CreateUser(t, "admin@example.com", store.RoleAdmin)
	tok := map[string]string{}
	for _, u := range []*store.User{owner, other, sales, admin} {
		tok[u.Email] = env.Token(t, u.ID)
	}
	app := readyApp(t, env.DB, owner, "Acme")

	var got handlers.TenantJSON
	if st := callAPI(t, env, tok["owner@example.com"], "POST", "/api/v1/apps/"+app.ID+"/deploy", "{}", &got); st != http.StatusAccepted {
		t.Fatalf("deploy: %d", st)
	}
	if got.ID == "" || got.Slug == "" || got.State != domain.StatePending || got.URL != "http://"+got.Slug+".localhost:8080/" || got.AppID != app.ID {
		t.Fatalf("deploy answer %+v", got)
	}
	if st := callAPI(t, env, tok["other@example.com"], "POST", "/api/v1/apps/"+app.ID+"/deploy", "", nil); st != http.StatusNotFound {
		t.Errorf("another prospect deploying the app: %d", st)
	}
	// The environment's limit (2 in the fake) comes back as 422 with its message.
	callAPI(t, env, tok["owner@example.com"], "POST", "/api/v1/apps/"+app.ID+"/deploy", "", nil)
	var e web.ErrorBody
	if st := callAPI(t, env, tok["owner@example.com"], "POST", "/api/v1/apps/"+app.ID+"/deploy", "", &e); st != http.StatusUnprocessableEntity || !strings.Contains(e.Error.Message, "Delete one") {
		t.Errorf("beyond the limit: %d %+v", st, e)
	}
	draft := readyApp(t, env.DB, owner, "Draft")
	draft.Status = store.AppDraft
	env.DB.UpdateApp(context.Background(), draft)
	if st := callAPI(t, env, tok["owner@example.com"], "POST", "/api/v1/apps/"+draft.ID+"/deploy", "", nil); st != http.StatusUnprocessableEntity {
		t.Errorf("draft deploy: %d", st)
	}

	for _, tc := range []struct {
		who    string
		status int
		count  int
	}{
		{"owner@example.com", 200, 2}, {"other@example.com", 200, 0}, {"sales@example.com", 200, 2}, {"admin@example.com", 200, 2},
	} {
		var list struct {
			Tenants []handlers.TenantJSON `json:"tenants"`
		}
		if st := callAPI(t, env, tok[tc.who], "GET", "/api/v1/tenants", "", &list); st != tc.status || len(list.Tenants) != tc.count {
			t.Errorf("%s lists %d tenants (%d), want %d", tc.who, len(list.Tenants), st, tc.count)
		}
	}

	path := "/api/v1/tenants/" + got.ID
	// A deployment still being built allows no restart: 409 with the reason.
	if st := callAPI(t, env, tok["owner@example.com"], "POST", path+"/restart", "", &e); st != http.StatusConflict || e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, "being built") {
		t.Errorf("restart while pending: %d %+v", st, e)
	}
	if err := env.DB.SetTenantState(context.Background(), got.ID, domain.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who, method, path, body string
		status                  int
		call                    string
	}{
		{"other@example.com", "GET", path, "", 404, ""},
		{"sales@example.com", "GET", path, "", 200, ""},
		{"owner@example.com", "GET", path + "/events", "", 200, ""},
		{"other@example.com", "DELETE", path, "", 404, ""},
		{"sales@example.com", "POST", path + "/restart", "", 403, ""},
		{"owner@example.com", "POST", path + "/restart", "", 202, "restart " + got.ID + " by owner@example.com"},
		{"owner@example.com", "POST", path + "/upgrade", `{"version":"2.0"}`, 202, "upgrade " + got.ID + " to 2.0"},
		{"owner@example.com", "POST", path + "/upgrade", `{"versions":"2.0"}`, 400, ""},
		{"admin@example.com", "DELETE", path, "", 202, "delete " + got.ID + " by admin@example.com"},
	} {
		before := fo.last()
		if st := callAPI(t, env, tok[tc.who], tc.method, tc.path, tc.body, nil); st != tc.status {
			t.Errorf("%s %s %s: %d, want %d", tc.who, tc.method, tc.path, st, tc.status)
		}
		if want := tc.call; want == "" && fo.last() != before || want != "" && fo.last() != want {
			t.Errorf("%s %s %s: orchestrator asked %q", tc.who, tc.method, tc.path, fo.last())
		}
	}
	var after handlers.TenantJSON
	callAPI(t, env, tok["owner@example.com"], "GET", path, "", &after)
	if after.DesiredState != domain.DesiredDeleted {
		t.Errorf("after delete: %+v", after)
	}
}

func TestTenantPageProgressAndActions(t *testing.T) {
	env, fo := newTenantEnv(t)
	c := env.SignUp(t, "owner@example.com", store.RoleProspect)
	app := readyApp(t, env.DB, c.User, "Acme")
	tn, err := fo.DeployApp(context.Background(), app, c.User)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env.DB.SetTenantState(ctx, tn.ID, domain.StateBuilding, "building image appfactory/tenant-contentapp:abc")
	id, _ := env.DB.StartBuild(ctx, tn.ID, "appfactory/tenant-contentapp:abc", 1)
	env.DB.AppendBuildLog(ctx, id, "Step 1/4 : FROM appfactory/contentapp:1.0\nStep 2/4 : COPY rootfs/ /\n")

	page := handlerstest.Body(t, c.Get(t, "/tenants/"+tn.ID))
	for _, want := range []string{`hx-get="/tenants/` + tn.ID + `/progress"`, `hx-trigger="every 1s"`, `data-state="building"`,
		"Step 2/4 : COPY rootfs/ /", "pending → building", `action="/tenants/` + tn.ID + `/delete"`, `data-confirm=`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// While it builds, the state allows no restart or upgrade: no button offers one.
	if strings.Contains(page, `<option value="2.0">`) || strings.Contains(page, `/restart"`) {
		t.Error("a building deployment's page offers a restart or an upgrade")
	}
	env.DB.SetTenantState(ctx, tn.ID, domain.StateDeploying, "")
	env.DB.SetTenantState(ctx, tn.ID, domain.StateRunning, "")
	part := handlerstest.Body(t, c.Get(t, "/tenants/"+tn.ID+"/progress"))
	if strings.Contains(part, "hx-trigger") || !strings.Contains(part, `data-state="running"`) || !strings.Contains(part, `href="http://`+tn.Slug+`.localhost:8080/"`) {
		t.Errorf("settled partial still polls or lacks the link:\n%s", part)
	}
	if strings.Contains(part, "<html") {
		t.Error("the partial is a whole page")
	}
	if page := handlerstest.Body(t, c.Get(t, "/tenants/"+tn.ID)); !strings.Contains(page, `<option value="2.0">`) || !strings.Contains(page, `/restart"`) {
		t.Error("a running deployment's page offers no restart or upgrade")
	}

	resp := c.PostForm(t, "/tenants/"+tn.ID+"/upgrade", url.Values{"version": {"2.0"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || fo.last() != "upgrade "+tn.ID+" to 2.0" {
		t.Errorf("upgrade form: %d, %q", resp.StatusCode, fo.last())
	}
	resp = c.PostForm(t, "/tenants/"+tn.ID+"/delete", url.Values{"csrf_token": {"wrong"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || strings.HasPrefix(fo.last(), "delete") {
		t.Errorf("delete with a bad CSRF token: %d, %q", resp.StatusCode, fo.last())
	}

	appPage := handlerstest.Body(t, c.Get(t, "/apps/"+app.ID))
	if !strings.Contains(appPage, `href="/tenants/`+tn.ID+`"`) || !strings.Contains(appPage, "running") {
		t.Errorf("app page lacks the deployment")
	}
	if apps := handlerstest.Body(t, c.Get(t, "/apps")); !strings.Contains(apps, `href="/tenants/`+tn.ID+`"`) {
		t.Errorf("My apps lacks the deployment")
	}
	var build struct {
		Tag, Result, Log string
	}
	if st := callAPI(t, env, env.Token(t, c.User.ID), "GET", "/api/v1/tenants/"+tn.ID+"/build", "", &build); st != 200 || build.Tag != "appfactory/tenant-contentapp:abc" || !strings.Contains(build.Log, "Step 2/4") {
		t.Errorf("build API: %d %+v", st, build)
	}
	stranger := env.SignUp(t, "stranger@example.com", store.RoleProspect)
	if r := stranger.Get(t, "/tenants/"+tn.ID); r.StatusCode != http.StatusNotFound {
		t.Errorf("a stranger sees the tenant page: %d", r.StatusCode)
	}
}
