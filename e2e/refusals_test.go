package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"

	"appfactory/store"
)

// TestRefusalsJourney: a prospect cannot reach another prospect's tenant
// or app, neither in the browser nor through the API (where the session
// cookie counts for nothing and their own token, made on their account
// page, finds nothing of it), nor the admin pages; and a wizard step with bad input shows the errors in place and
// keeps everything else that was typed. The other prospect's tenant runs
// on untouched.
func TestRefusalsJourney(t *testing.T) {
	s := startServer(t)
	createUser(t, s, "ann@example.com", "Ann Owner", store.RoleProspect)
	ann := tokenAPI(t, s, "ann@example.com")
	theirs := deployApp(t, ann, "Ann Desk", "trial")

	page := newPage(t)
	// Every refusal is answered with a 4xx on purpose; the wizard's with 422.
	errs := consoleErrors(page, regexp.MustCompile(`status of (403|404|422)`))
	signUp(t, page, s, person{Name: "Bob Browser", Email: "bob@example.com", Company: "Elsewhere"})

	t.Run("pages", func(t *testing.T) {
		for _, c := range []struct {
			path   string
			status int
			text   string
		}{
			{"/tenants/" + theirs.ID, http.StatusNotFound, "Page not found"},
			{"/tenants/" + theirs.ID + "/progress", http.StatusNotFound, "Page not found"},
			{"/apps/" + theirs.AppID, http.StatusNotFound, "Page not found"},
			{"/apps/" + theirs.AppID + "/wizard/4", http.StatusNotFound, "Page not found"},
			{"/admin", http.StatusForbidden, "Not allowed"},
		} {
			resp := goTo(t, page, s.URL+c.path)
			if resp.Status() != c.status {
				t.Errorf("%s answered %d, want %d", c.path, resp.Status(), c.status)
			}
			expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: c.text}), c.path+": "+c.text)
			body, _ := page.Content()
			if strings.Contains(body, theirs.Title) || strings.Contains(body, theirs.Slug) {
				t.Errorf("%s shows the other prospect's tenant", c.path)
			}
		}
	})

	// The API takes tokens only: the browser's session cookie opens nothing
	// there (so no other site can drive it with the cookie).
	t.Run("session", func(t *testing.T) {
		for _, path := range []string{"/api/v1/me", "/api/v1/tenants/" + theirs.ID} {
			var e apiError
			fetchJSON(t, page.Request(), http.MethodGet, s.URL+path, http.StatusUnauthorized, &e)
			if e.Error.Code != "unauthorized" {
				t.Errorf("GET %s with the session cookie: error %+v", path, e.Error)
			}
		}
	})

	// With a token made on the account page, sent alone, the prospect's
	// own API answers; the other prospect's tenant and app are not found.
	t.Run("token", func(t *testing.T) {
		goTo(t, page, s.URL+"/account")
		fill(t, page.GetByLabel("Token name"), "refusals")
		click(t, button(page, "Create token"))
		token, err := page.Locator("#new-token").TextContent()
		if err != nil || strings.TrimSpace(token) == "" {
			t.Fatalf("no token on the account page: %v", err)
		}
		api, err := pw.Request.NewContext(playwright.APIRequestNewContextOptions{
			BaseURL:          playwright.String(s.URL),
			ExtraHttpHeaders: map[string]string{"Authorization": "Bearer " + strings.TrimSpace(token)},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer api.Dispose()
		var me struct {
			Email string `json:"email"`
		}
		fetchJSON(t, api, http.MethodGet, s.URL+"/api/v1/me", http.StatusOK, &me)
		if me.Email != "bob@example.com" {
			t.Fatalf("the token acts as %q", me.Email)
		}
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/tenants/" + theirs.ID},
			{http.MethodGet, "/api/v1/tenants/" + theirs.ID + "/events"},
			{http.MethodGet, "/api/v1/tenants/" + theirs.ID + "/logs"},
			{http.MethodPost, "/api/v1/tenants/" + theirs.ID + "/passivate"},
			{http.MethodDelete, "/api/v1/tenants/" + theirs.ID},
			{http.MethodGet, "/api/v1/apps/" + theirs.AppID},
			{http.MethodPost, "/api/v1/apps/" + theirs.AppID + "/deploy"},
		} {
			var e apiError
			fetchJSON(t, api, c.method, s.URL+c.path, http.StatusNotFound, &e)
			if e.Error.Code != "not_found" {
				t.Errorf("%s %s: error %+v, want not_found", c.method, c.path, e.Error)
			}
		}
		var list struct {
			Tenants []tenantJSON `json:"tenants"`
		}
		fetchJSON(t, api, http.MethodGet, s.URL+"/api/v1/tenants", http.StatusOK, &list)
		for _, x := range list.Tenants {
			if x.ID == theirs.ID {
				t.Error("the other prospect's tenant is listed")
			}
		}
		var e apiError
		fetchJSON(t, api, http.MethodGet, s.URL+"/api/v1/admin/summary", http.StatusForbidden, &e)
		if e.Error.Code != "forbidden" {
			t.Errorf("admin summary: error %+v, want forbidden", e.Error)
		}
	})

	// A wizard step with bad input: the errors show beside the fields, and
	// the title, colour and the other fields stay as typed.
	t.Run("wizard", func(t *testing.T) {
		w := wizard{t, page}
		goTo(t, page, s.URL+"/apps")
		w.platform("Bob Desk", "contentapp", "1.0")
		w.components()
		w.toModel()
		w.heading("Application model")
		w.fillModel("Bob Records", "#aa3300", doctypeSpec{Name: "", Fields: []fieldSpec{
			{Name: "amount", Type: "number"}, {Name: "kind", Type: "choice"}}})
		w.click("Next: Environment")
		expectVisible(t, page.GetByText("give it a name."), "doctype name error")
		expectVisible(t, page.GetByText(`Field "kind": a choice field needs at least one option.`), "choices error")
		for sel, want := range map[string]string{
			`input[name=title]`:                        "Bob Records",
			`input[name=color]`:                        "#aa3300",
			`input[name="doctypes[0].fields[0].name"]`: "amount",
			`input[name="doctypes[0].fields[1].name"]`: "kind",
		} {
			if got, _ := w.input(sel).InputValue(); got != want {
				t.Errorf("%s is %q after the refusal, want %q", sel, got, want)
			}
		}
		if v, _ := w.input(`select[name="doctypes[0].fields[0].type"]`).InputValue(); v != "number" {
			t.Errorf("the first field's type became %q", v)
		}
		// Corrected, the step moves on.
		w.do("doctype name", w.input(`input[name="doctypes[0].name"]`).Fill("Record"))
		w.do("choices", w.input(`input[name="doctypes[0].fields[1].choices"]`).Fill("in, out"))
		w.click("Next: Environment")
		w.heading("Environment")
	})

	// Nothing the refusals tried touched the other prospect's tenant.
	ann.waitTenantState(t, theirs.ID, "running", 2*time.Minute)
	noConsoleErrors(t, errs)
}

// apiError is the API's error shape.
type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

// fetchJSON sends a request through a playwright request context, checks
// the status and decodes the JSON answer into out (when not nil).
func fetchJSON(t *testing.T, api playwright.APIRequestContext, method, url string, want int, out any) {
	t.Helper()
	resp, err := api.Fetch(url, playwright.APIRequestContextFetchOptions{Method: playwright.String(method)})
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Dispose()
	if resp.Status() != want {
		body, _ := resp.Text()
		t.Errorf("%s %s answered %d, want %d: %.200s", method, url, resp.Status(), want, body)
		return
	}
	if out != nil {
		if err := resp.JSON(out); err != nil {
			t.Errorf("%s %s: %v", method, url, err)
		}
	}
}
