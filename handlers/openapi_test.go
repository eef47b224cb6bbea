package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"appfactory/catalog"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/orchestrator/stack"
	"appfactory/store"
	"appfactory/webhooks"
)

// fullServer is the portal with every API route, the sleep controls included.
func fullServer(t *testing.T) *handlerstest.Env {
	t.Helper()
	env := handlerstest.NewServer(t)
	cat, err := catalog.Load("")
	if err != nil {
		t.Fatal(err)
	}
	p := &handlers.Power{H: env.Handlers, Tenants: &fakePower{db: env.DB}, Trials: fakeTrials{env.DB}, Catalog: cat, Background: context.Background()}
	p.Register(env.Web.Echo())
	g := &webhooks.Guard{Tenants: []netip.Prefix{netip.MustParsePrefix(stack.DefaultSubnetPool)}}
	(&handlers.Webhooks{H: env.Handlers, Service: &webhooks.Service{DB: env.DB, Guard: g, Logger: env.Handlers.Logger}}).Register(env.Web.Echo())
	return env
}

func openAPIDoc(t *testing.T, env *handlerstest.Env) (map[string]any, []byte) {
	t.Helper()
	resp, err := http.Get(env.URL + "/api/v1/openapi.json") // no token: anyone may read it
	if err != nil {
		t.Fatal(err)
	}
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc, []byte(body)
}

var echoParam = regexp.MustCompile(`:([a-zA-Z_]+)`)

// The document lists exactly the routes the server has under /api/v1.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	env := fullServer(t)
	doc, _ := openAPIDoc(t, env)
	documented := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			documented[strings.ToUpper(m)+" /api/v1"+p] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range env.Web.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.Contains(r.Path, "*") || !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, r.Method) {
			continue
		}
		registered[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	for op := range registered {
		if !documented[op] {
			t.Errorf("%s is served but not in the OpenAPI document", op)
		}
	}
	for op := range documented {
		if !registered[op] {
			t.Errorf("%s is in the OpenAPI document but no route serves it", op)
		}
	}
}

// The document is valid OpenAPI 3.1, and real answers of the API match its
// schemas.
func TestOpenAPIDocumentValidatesAnswers(t *testing.T) {
	env := fullServer(t)
	_, raw := openAPIDoc(t, env)
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetSpecInfo().VersionNumeric; v != 3.1 {
		t.Fatalf("OpenAPI version %v, want 3.1", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	admin := env.CreateUser(t, "admin@example.com", store.RoleAdmin)
	owner := env.CreateUser(t, "owner@example.com", store.RoleProspect)
	tenant := insertRunningTenant(t, env.DB, "docs", owner.ID)
	tok := env.Token(t, admin.ID)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/me", 200},
		{"GET", "/api/v1/catalog", 200},
		{"GET", "/api/v1/apps?all=1", 200},
		{"GET", "/api/v1/tenants", 200},
		{"GET", "/api/v1/tenants/" + tenant, 200},
		{"GET", "/api/v1/tenants/" + tenant + "/events", 200},
		{"GET", "/api/v1/admin/environments", 200},
		{"POST", "/api/v1/tenants/" + tenant + "/passivate", 200},
		{"POST", "/api/v1/tenants/" + tenant + "/passivate", 409},
		{"GET", "/api/v1/tenants/nope", 404},
		{"GET", "/api/v1/tenants/" + tenant + "/policy", 200},
		{"GET", "/api/v1/admin/webhooks", 200},
		{"GET", "/api/v1/admin/budget", 200},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, env.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			req.URL.Host, req.URL.Scheme = "", "" // match the document's relative server URL
			if ok, verrs := v.ValidateHttpResponse(req, resp); !ok {
				for _, e := range verrs {
					t.Errorf("%s: %s", e.Message, e.Reason)
					for _, se := range e.SchemaValidationErrors {
						t.Errorf("  %s at %s", se.Reason, se.FieldPath)
					}
				}
			}
		})
	}
}
