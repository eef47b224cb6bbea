package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// fakeExtender records extensions.
type fakeExtender struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeExtender) Extend(_ context.Context, id string, days int) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, id)
	return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), nil
}

func TestSalesDemoForAProspect(t *testing.T) {
	ext := &fakeExtender{}
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Monitoring.Extender = ext
	})
	ctx := context.Background()
	sales := env.SignUp(t, "sales@example.com", store.RoleSales)
	admin := env.SignUp(t, "admin@example.com", store.RoleAdmin)
	prospect := env.SignUp(t, "known@example.com", store.RoleProspect)

	// An app of the sales person, finished, becomes a template.
	tpl := &store.App{OwnerID: sales.User.ID, Name: "Contracts", Status: store.AppReady, Platform: "contentapp", Version: "1.0",
		Environment: "trial", Replicas: 3, ModelJSON: `{"title":"Contract register"}`}
	draft := &store.App{OwnerID: sales.User.ID, Name: "Half done", Platform: "contentapp"}
	for _, a := range []*store.App{tpl, draft} {
		if err := env.DB.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	post := func(t *testing.T, c *handlerstest.Client, path string, form url.Values) (int, string) {
		t.Helper()
		resp := c.PostForm(t, path, form)
		return resp.StatusCode, handlerstest.Body(t, resp)
	}
	t.Run("templates are marked by staff only", func(t *testing.T) {
		if status, _ := post(t, prospect, "/apps/"+tpl.ID+"/template", url.Values{"template": {"1"}}); status != 403 {
			t.Errorf("prospect marking: %d", status)
		}
		if status, _ := post(t, sales, "/apps/"+draft.ID+"/template", url.Values{"template": {"1"}}); status != 422 {
			t.Errorf("draft marked: %d", status)
		}
		if status, _ := post(t, sales, "/apps/"+tpl.ID+"/template", url.Values{"template": {"1"}}); status != 303 {
			t.Fatalf("sales marking: %d", status)
		}
		if body := handlerstest.Body(t, sales.Get(t, "/apps/"+tpl.ID)); !strings.Contains(body, "Unmark as template") {
			t.Error("the app page does not show the template mark")
		}
	})
	t.Run("the sales view by role", func(t *testing.T) {
		for _, c := range []struct {
			client *handlerstest.Client
			status int
		}{{sales, 200}, {admin, 200}, {prospect, 403}, {env.Visitor(t), 303}} {
			resp := c.client.Get(t, "/sales")
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != c.status {
				t.Errorf("GET /sales = %d, want %d", resp.StatusCode, c.status)
			}
			if c.status == 200 && !strings.Contains(body, "Contracts (contentapp 1.0)") {
				t.Error("the template is not offered")
			}
		}
	})
	t.Run("refused form", func(t *testing.T) {
		status, body := post(t, sales, "/sales/demos", url.Values{"template": {draft.ID}, "email": {"x@example.com"}})
		if status != 422 || !strings.Contains(body, "Pick one of the templates") {
			t.Errorf("non-template: %d", status)
		}
		if status, _ := post(t, sales, "/sales/demos", url.Values{"template": {tpl.ID}, "email": {"not an email"}}); status != 422 {
			t.Errorf("bad email: %d", status)
		}
	})

	var inviteURL string
	t.Run("demo for a new prospect", func(t *testing.T) {
		status, body := post(t, sales, "/sales/demos", url.Values{"template": {tpl.ID}, "email": {"New.Lead@Example.com"}, "name": {"Nora Lead"}, "company": {"Lead Corp"}})
		if status != 201 {
			t.Fatalf("create demo: %d\n%.800s", status, body)
		}
		u, err := env.DB.UserByEmail(ctx, "new.lead@example.com")
		if err != nil || u.Role != store.RoleProspect || u.Name != "Nora Lead" || u.Company != "Lead Corp" {
			t.Fatalf("prospect account %+v %v", u, err)
		}
		apps, _ := env.DB.AppsOfOwner(ctx, u.ID)
		if len(apps) != 1 || apps[0].Environment != "demo" || apps[0].Replicas != 2 || apps[0].ParentID.String != tpl.ID || apps[0].Name != "Contracts Lead Corp" {
			t.Fatalf("demo app %+v", apps)
		}
		tenants, _ := env.DB.ListTenants(ctx, store.TenantFilter{OwnerID: u.ID})
		if len(tenants) != 1 || tenants[0].CreatedBy != sales.User.ID {
			t.Fatalf("demo tenants %+v", tenants)
		}
		link := regexp.MustCompile(`id="demo-link" href="(http://[^"]+)"`).FindStringSubmatch(body)
		if link == nil || link[1] != handlerstest.TenantURL(tenants[0].Slug) {
			t.Errorf("share link %v, want the tenant's address", link)
		}
		m := regexp.MustCompile(`id="invite-link">([^<]+)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no invitation link for the new account")
		}
		inviteURL = m[1]
		// The prospect is mailed the demo, with the invitation link.
		ms, _ := env.DB.ListOutbox(ctx, 10)
		if len(ms) == 0 || ms[0].Kind != "demo_shared" || ms[0].To != "new.lead@example.com" ||
			!strings.Contains(ms[0].Text, handlerstest.TenantURL(tenants[0].Slug)) || !strings.Contains(ms[0].Text, inviteURL) {
			t.Errorf("the demo's mail: %+v", ms)
		}
		// Nobody can sign in to the new account yet.
		c := env.Visitor(t)
		c.Get(t, "/login").Body.Close()
		resp := c.PostForm(t, "/login", url.Values{"email": {"new.lead@example.com"}, "password": {""}})
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther {
			t.Error("signed in to an invited account without its password")
		}
	})
	t.Run("demo for a known prospect", func(t *testing.T) {
		status, body := post(t, sales, "/sales/demos", url.Values{"template": {tpl.ID}, "email": {"known@example.com"}})
		if status != 201 || strings.Contains(body, "invite-link") {
			t.Fatalf("demo for a known prospect: %d, invite shown: %v", status, strings.Contains(body, "invite-link"))
		}
		if apps, _ := env.DB.AppsOfOwner(ctx, prospect.User.ID); len(apps) != 1 || apps[0].Name != "Contracts" {
			t.Errorf("apps of the known prospect %+v", apps)
		}
	})
	t.Run("prospects ranked, extended, searched", func(t *testing.T) {
		body := handlerstest.Body(t, sales.Get(t, "/sales"))
		for _, w := range []string{"new.lead@example.com", "known@example.com", "invited", "Extend"} {
			if !strings.Contains(body, w) {
				t.Errorf("sales view lacks %q", w)
			}
		}
		tenants, _ := env.DB.ListTenants(ctx, store.TenantFilter{OwnerID: prospect.User.ID})
		status, _ := post(t, sales, "/sales/tenants/"+tenants[0].ID+"/extend", url.Values{"days": {"14"}})
		if status != 303 || len(ext.calls) != 1 || ext.calls[0] != tenants[0].ID {
			t.Errorf("extend: %d %v", status, ext.calls)
		}
		if status, _ := post(t, sales, "/sales/tenants/"+tenants[0].ID+"/extend", url.Values{"days": {"1000"}}); status != 400 {
			t.Errorf("extend by 1000 days: %d", status)
		}
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/sales?q=lead+corp", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "prospects")
		part := handlerstest.Body(t, sales.Do(t, req))
		if strings.Contains(part, "<html") || !strings.Contains(part, "new.lead@example.com") || strings.Contains(part, "known@example.com") {
			t.Errorf("search partial:\n%.500s", part)
		}
	})
	t.Run("the invitation sets a password once", func(t *testing.T) {
		u, _ := url.Parse(inviteURL)
		c := env.Visitor(t)
		if body := handlerstest.Body(t, c.Get(t, u.Path)); !strings.Contains(body, "new.lead@example.com") {
			t.Fatal("invitation page does not name the account")
		}
		resp := c.PostForm(t, u.Path, url.Values{"name": {"Nora Lead"}, "password": {"a fine long passphrase"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d", resp.StatusCode)
		}
		if body := handlerstest.Body(t, c.Get(t, "/apps")); !strings.Contains(body, "Contracts Lead Corp") {
			t.Error("the prospect does not see the demo app")
		}
		if resp := env.Visitor(t).Get(t, u.Path); resp.StatusCode != 404 {
			t.Errorf("used invitation: %d", resp.StatusCode)
		}
		again := env.Visitor(t)
		again.Login(t, "new.lead@example.com", "a fine long passphrase")
		lead, _ := env.DB.UserByEmail(ctx, "new.lead@example.com")
		if status, _ := post(t, sales, "/sales/prospects/"+lead.ID+"/invite", nil); status != 409 {
			t.Errorf("a new invitation for an account in use: %d", status)
		}
	})
	if woken := env.Wakes.IDs(); len(woken) != 2 {
		t.Errorf("the reconciler was woken for %v, want the two demos", woken)
	}
}
