package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/store"
)

const goodApp = `{"name":"Good","platform":"contentapp","version":"2.0","components":["comments"],"environment":"trial","replicas":1,
	"model":{"title":"Good Docs","color":"#123456","doctypes":[{"name":"Invoice","fields":[{"name":"total","type":"number"},{"name":"state","type":"choice","choices":["open","paid"]}]}]}}`

func TestAPIAppsStatusCodes(t *testing.T) {
	w := newWorld(t)
	env := w.env
	if code := api(t, env, "", "GET", "/api/v1/apps", "", nil); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code := api(t, env, "not-a-token", "POST", "/api/v1/apps", goodApp, nil); code != http.StatusUnauthorized {
		t.Errorf("bad token: %d", code)
	}
	var created handlers.AppJSON
	if code := api(t, env, w.token, "POST", "/api/v1/apps", goodApp, &created); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if created.ID == "" || created.Status != "ready" || created.Replicas != 1 || len(created.Model.Doctypes[0].Fields) != 2 ||
		created.CreatedAt.IsZero() || strings.Join(created.Components, ",") != "comments" || created.CustomComponents == nil {
		t.Errorf("created %+v", created)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"not json", `not json`, 400, ""},
		{"unknown field", `{"name":"x","colour":"red"}`, 400, ""},
		{"wrong type", `{"name":"x","replicas":"two"}`, 400, ""},
		{"two values", `{"name":"x"} {}`, 400, ""},
		{"empty", ``, 400, ""},
		{"unknown platform", `{"name":"x","platform":"nope","version":"1","components":[],"environment":"trial","replicas":1}`, 422, "platform"},
		{"unknown component", `{"name":"x","platform":"contentapp","version":"2.0","components":["no-such-component"],"environment":"trial","replicas":1}`, 422, "components"},
		{"too many replicas", `{"name":"x","platform":"contentapp","version":"2.0","components":[],"environment":"trial","replicas":9}`, 422, "replicas"},
		{"no name", `{"name":"","platform":"contentapp","version":"2.0","components":[],"environment":"trial","replicas":1}`, 422, "name"},
		{"doctype without name", `{"name":"x","platform":"contentapp","version":"2.0","components":[],"environment":"trial","replicas":1,"model":{"doctypes":[{"name":"","fields":[]}]}}`, 422, "model.doctypes[0].name"},
		{"deprecated version", `{"name":"x","platform":"contentapp","version":"0.9","environment":"trial"}`, 422, "version"},
		{"missing requirement", `{"name":"x","platform":"contentapp","version":"2.0","components":["workflow"],"environment":"trial"}`, 422, "components"},
		{"conflict", `{"name":"x","platform":"contentapp","version":"2.0","components":["audit","versioning","export"],"environment":"trial"}`, 422, "components"},
		{"unknown environment", `{"name":"x","platform":"contentapp","version":"2.0","environment":"moon"}`, 422, "environment"},
		{"bad field type", `{"name":"x","platform":"contentapp","version":"2.0","environment":"trial","model":{"doctypes":[{"name":"A","fields":[{"name":"f","type":"blob"}]}]}}`, 422, "model.doctypes[0].fields[0].type"},
		{"bad colour", `{"name":"x","platform":"contentapp","version":"2.0","environment":"trial","model":{"color":"red"}}`, 422, "model.color"},
		{"someone's custom component", `{"name":"x","platform":"contentapp","version":"2.0","environment":"trial","custom_components":["aaaaaaaaaaaaaaaa"]}`, 422, "custom_components"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			code := api(t, env, w.token, "POST", "/api/v1/apps", tc.body, &e)
			if code != tc.status || e.Error.Message == "" || e.Error.Field != tc.field {
				t.Fatalf("%d %+v, want %d on field %q", code, e.Error, tc.status, tc.field)
			}
			if tc.field != "" && !strings.Contains(e.Error.Message, tc.field) {
				t.Errorf("message %q does not name %s", e.Error.Message, tc.field)
			}
		})
	}
	if n := countApps(t, env); n != 1 {
		t.Errorf("refused apps were stored: %d apps", n)
	}

	var list struct{ Apps []handlers.AppJSON }
	if code := api(t, env, w.token, "GET", "/api/v1/apps", "", &list); code != 200 || len(list.Apps) != 1 {
		t.Errorf("list: %d %d", code, len(list.Apps))
	}
	var got handlers.AppJSON
	if code := api(t, env, w.token, "GET", "/api/v1/apps/"+created.ID, "", &got); code != 200 || got.Model.Title != "Good Docs" {
		t.Errorf("get: %d %+v", code, got)
	}
	changed := strings.Replace(goodApp, `"replicas":1`, `"replicas":2`, 1)
	changed = strings.Replace(changed, `"trial"`, `"demo"`, 1)
	if code := api(t, env, w.token, "PUT", "/api/v1/apps/"+created.ID, changed, &got); code != 200 || got.Replicas != 2 || got.Environment != "demo" {
		t.Errorf("put: %d %+v", code, got)
	}
	var e apiError
	if code := api(t, env, w.token, "PUT", "/api/v1/apps/"+created.ID, goodApp[:40]+"}", &e); code != 400 {
		t.Errorf("put malformed: %d", code)
	}
	if code := api(t, env, w.token, "PUT", "/api/v1/apps/"+created.ID, strings.Replace(changed, `"replicas":2`, `"replicas":5`, 1), &e); code != 422 || e.Error.Field != "replicas" {
		t.Errorf("put invalid: %d %+v", code, e)
	}
	if a, _ := env.DB.AppByID(context.Background(), created.ID); a.Replicas != 2 {
		t.Errorf("refused PUT changed the app: %+v", a)
	}
	if code := api(t, env, w.token, "GET", "/api/v1/apps/nosuchappxxxxxxx", "", nil); code != 404 {
		t.Errorf("unknown app: %d", code)
	}
	if code := api(t, env, w.token, "DELETE", "/api/v1/apps/"+created.ID, "", nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code := api(t, env, w.token, "GET", "/api/v1/apps/"+created.ID, "", nil); code != 404 {
		t.Errorf("deleted app: %d", code)
	}
}

func TestAPIAppsAuthorisation(t *testing.T) {
	w := newWorld(t)
	env := w.env
	var mine handlers.AppJSON
	api(t, env, w.token, "POST", "/api/v1/apps", goodApp, &mine)
	bob := env.CreateUser(t, "bob@example.com", store.RoleProspect)
	bobTok := env.Token(t, bob.ID)
	sam := env.CreateUser(t, "sam@example.com", store.RoleSales)
	samTok := env.Token(t, sam.ID)

	for _, tc := range []struct {
		name, token, method, body string
		want                      int
	}{
		{"other user reads", bobTok, "GET", "", 404},
		{"other user writes", bobTok, "PUT", goodApp, 404},
		{"other user deletes", bobTok, "DELETE", "", 404},
		{"sales reads", samTok, "GET", "", 200},
		{"sales writes", samTok, "PUT", goodApp, 404},
		{"sales deletes", samTok, "DELETE", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := api(t, env, tc.token, tc.method, "/api/v1/apps/"+mine.ID, tc.body, nil); code != tc.want {
				t.Errorf("%s: %d, want %d", tc.method, code, tc.want)
			}
		})
	}
	var list struct{ Apps []handlers.AppJSON }
	api(t, env, bobTok, "GET", "/api/v1/apps", "", &list)
	if len(list.Apps) != 0 {
		t.Errorf("bob lists %d apps", len(list.Apps))
	}
	if code := api(t, env, bobTok, "GET", "/api/v1/apps?all=1", "", nil); code != 403 {
		t.Errorf("prospect lists all: %d", code)
	}
	api(t, env, samTok, "GET", "/api/v1/apps?all=1", "", &list)
	if len(list.Apps) != 1 {
		t.Errorf("sales lists %d apps of all", len(list.Apps))
	}

	// An app with a live deployment cannot be deleted.
	live := &store.Tenant{ID: "t1", AppID: mine.ID, OwnerID: w.c.User.ID, CreatedBy: w.c.User.ID, Slug: "live",
		Platform: "contentapp", Version: "2.0", Environment: "trial", Replicas: 1, DesiredState: domain.DesiredRunning}
	if err := env.DB.CreateTenant(context.Background(), live, 0); err != nil {
		t.Fatal(err)
	}
	var e apiError
	if code := api(t, env, w.token, "DELETE", "/api/v1/apps/"+mine.ID, "", &e); code != http.StatusConflict || e.Error.Code != "conflict" {
		t.Errorf("delete with a live tenant: %d %+v", code, e)
	}
}

func TestAPICatalog(t *testing.T) {
	w := newWorld(t)
	var cat struct {
		Platforms []struct {
			ID       string
			Versions []struct {
				Version    string
				Deprecated bool
				LTS        bool
			}
			Components []struct {
				ID        string
				Requires  []string
				Conflicts []string
				Versions  []string
			}
		}
		Environments []struct {
			ID                string
			TTLSeconds        int64 `json:"ttl_seconds"`
			IdleTimeout       int64 `json:"idle_timeout_seconds"`
			MaxReplicas       int   `json:"max_replicas"`
			MemoryBytes       int64 `json:"memory_bytes"`
			MaxTenantsPerUser int   `json:"max_tenants_per_user"`
		}
	}
	if code := api(t, w.env, w.token, "GET", "/api/v1/catalog", "", &cat); code != 200 {
		t.Fatalf("catalog: %d", code)
	}
	if code := api(t, w.env, "", "GET", "/api/v1/catalog", "", nil); code != 401 {
		t.Errorf("catalog without token: %d", code)
	}
	p := cat.Platforms[0]
	if p.ID != "contentapp" || len(p.Versions) < 2 || len(p.Components) < 5 {
		t.Fatalf("platform %+v", p)
	}
	if p.Versions[0].Deprecated || !p.Versions[len(p.Versions)-1].Deprecated {
		t.Errorf("deprecated versions are not last: %+v", p.Versions)
	}
	for _, c := range p.Components {
		if c.Requires == nil || c.Conflicts == nil || c.Versions == nil {
			t.Errorf("component %s has null lists", c.ID)
		}
	}
	envs := map[string]int{}
	for _, e := range cat.Environments {
		envs[e.ID] = e.MaxReplicas
		if e.MemoryBytes == 0 || e.MaxTenantsPerUser == 0 {
			t.Errorf("environment %+v", e)
		}
	}
	if envs["trial"] != 1 || envs["demo"] != 2 || envs["production"] != 7 {
		t.Errorf("max replicas %v", envs)
	}
}
