package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

func TestAdminUsers(t *testing.T) {
	env := handlerstest.NewServer(t)
	admin := env.SignUp(t, "boss@example.com", store.RoleAdmin)
	pat := env.SignUp(t, "pat@example.com", store.RoleProspect)
	ctx := context.Background()

	page := handlerstest.Body(t, admin.Get(t, "/admin/users"))
	if !strings.Contains(page, "pat@example.com") || !strings.Contains(page, "boss@example.com") {
		t.Fatalf("users page: %s", page)
	}
	if page := handlerstest.Body(t, admin.Get(t, "/admin/users?q=boss")); strings.Contains(page, "pat@example.com") {
		t.Errorf("search did not filter")
	}
	post := func(path string, form url.Values) int {
		t.Helper()
		resp := admin.PostForm(t, path, form)
		resp.Body.Close()
		return resp.StatusCode
	}
	base := "/admin/users/" + pat.User.ID
	if st := post(base+"/role", url.Values{"role": {"sales"}}); st != http.StatusSeeOther {
		t.Fatalf("set role: %d", st)
	}
	if u, _ := env.DB.UserByID(ctx, pat.User.ID); u.Role != store.RoleSales {
		t.Fatalf("role %s", u.Role)
	}
	if resp := pat.Get(t, "/sales"); resp.StatusCode == 403 {
		t.Errorf("sales user refused /sales")
	}
	if st := post(base+"/role", url.Values{"role": {"root"}}); st != 400 {
		t.Errorf("bad role: %d", st)
	}
	if st := post(base+"/sessions/delete", nil); st != http.StatusSeeOther {
		t.Fatalf("end sessions: %d", st)
	}
	if resp := pat.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pat still signed in after the admin ended the sessions: %d", resp.StatusCode)
	}
	pat.Login(t, "pat@example.com", handlerstest.Password)
	if st := post(base+"/disable", nil); st != http.StatusSeeOther {
		t.Fatalf("disable: %d", st)
	}
	if resp := pat.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled user still signed in: %d", resp.StatusCode)
	}
	if st := post(base+"/enable", nil); st != http.StatusSeeOther {
		t.Fatalf("enable: %d", st)
	}
	pat.Login(t, "pat@example.com", handlerstest.Password)
	// An admin cannot demote or disable themself here.
	if st := post("/admin/users/"+admin.User.ID+"/disable", nil); st != 422 {
		t.Errorf("self-disable: %d", st)
	}
	if st := post("/admin/users/nope/disable", nil); st != 404 {
		t.Errorf("unknown user: %d", st)
	}
	// Sales people are not admins.
	if resp := pat.Get(t, "/admin/users"); resp.StatusCode != 403 {
		t.Errorf("sales on /admin/users: %d", resp.StatusCode)
	}
}
