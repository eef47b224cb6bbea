package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

var newTokenRE = regexp.MustCompile(`<code id="new-token">(af_[A-Za-z0-9_-]+)</code>`)

func TestAccountTokens(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	resp := c.PostForm(t, "/account/tokens", url.Values{"name": {"laptop"}})
	body := handlerstest.Body(t, resp)
	m := newTokenRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("create token: %d %s", resp.StatusCode, body)
	}
	tok := m[1]
	// Shown once: the account page never shows it again.
	if page := handlerstest.Body(t, c.Get(t, "/account")); strings.Contains(page, tok) || !strings.Contains(page, "laptop") {
		t.Fatalf("account page after creation shows the token or lacks its name")
	} else if !strings.Contains(page, `href="/api/v1/openapi.json"`) {
		t.Errorf("the account page does not link the OpenAPI document")
	}
	req, _ := http.NewRequest("GET", env.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 200 {
		t.Fatalf("new token refused: %d", resp.StatusCode)
	}
	ts, _ := env.DB.ListTokens(context.Background(), c.User.ID)
	resp = c.PostForm(t, "/account/tokens/"+ts[0].ID+"/delete", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
		t.Fatalf("revoked token still works: %d", resp.StatusCode)
	}
	if page := handlerstest.Body(t, c.Get(t, "/account")); !strings.Contains(page, "The token is revoked.") {
		t.Errorf("no flash after revoking")
	}
}

func TestAccountTokenHTMXPartial(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	req, _ := http.NewRequest("POST", env.URL+"/account/tokens", strings.NewReader("name=ci"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp := c.Do(t, req)
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != 200 || strings.Contains(body, "<html") || !strings.HasPrefix(strings.TrimSpace(body), `<section id="tokens"`) || newTokenRE.FindString(body) == "" {
		t.Fatalf("htmx token: %d %s", resp.StatusCode, body)
	}
}

// TestProspectDeniedOthersResources: tokens and sessions are looked up with
// their owner, so another user's ids answer 404 and change nothing.
func TestProspectDeniedOthersResources(t *testing.T) {
	env := handlerstest.NewServer(t)
	victim := env.SignUp(t, "victim@example.com", store.RoleProspect)
	attacker := env.SignUp(t, "attacker@example.com", store.RoleProspect)
	env.Token(t, victim.User.ID)
	ts, _ := env.DB.ListTokens(context.Background(), victim.User.ID)
	ss, _ := env.DB.ListUserSessions(context.Background(), victim.User.ID)
	for _, path := range []string{"/account/tokens/" + ts[0].ID + "/delete", "/account/sessions/" + ss[0].IDHash + "/delete"} {
		resp := attacker.PostForm(t, path, nil)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	if ts2, _ := env.DB.ListTokens(context.Background(), victim.User.ID); len(ts2) != 1 {
		t.Error("the victim's token was revoked")
	}
	if resp := victim.Get(t, "/account"); resp.StatusCode != 200 {
		t.Errorf("the victim was signed out: %d", resp.StatusCode)
	}
	for _, path := range []string{"/admin", "/admin/users", "/sales"} {
		resp := attacker.Get(t, path)
		body := handlerstest.Body(t, resp)
		if resp.StatusCode != 403 || !strings.Contains(body, "Not allowed") {
			t.Errorf("prospect on %s: %d", path, resp.StatusCode)
		}
	}
	resp := attacker.PostForm(t, "/admin/users/"+victim.User.ID+"/disable", nil)
	resp.Body.Close()
	if u, _ := env.DB.UserByID(context.Background(), victim.User.ID); resp.StatusCode != 403 || u.Disabled {
		t.Errorf("prospect disabled a user: %d", resp.StatusCode)
	}
}

func TestChangePassword(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	other := env.Visitor(t)
	other.Login(t, "pat@example.com", handlerstest.Password)
	for _, tc := range []struct {
		name, current, next, message string
		status                       int
	}{
		{"wrong current", "not-my-password", "another fine passphrase", "This is not your current password.", 422},
		{"weak new", handlerstest.Password, "password1", "too common", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.PostForm(t, "/account/password", url.Values{"current_password": {tc.current}, "new_password": {tc.next}})
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.message) || strings.Contains(body, tc.next) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	resp := c.PostForm(t, "/account/password", url.Values{"current_password": {handlerstest.Password}, "new_password": {"another fine passphrase"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp := c.Get(t, "/account"); resp.StatusCode != 200 {
		t.Errorf("this session was ended: %d", resp.StatusCode)
	}
	if resp := other.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the other session survived: %d", resp.StatusCode)
	}
	env.Visitor(t).Login(t, "pat@example.com", "another fine passphrase")
	// A refused form stays at the address it was posted to; opening that
	// address again leads back to the account page.
	for _, path := range []string{"/account/password", "/account/tokens"} {
		resp := c.Get(t, path)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
			t.Errorf("GET %s: %d to %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestEndOwnSession(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	other := env.Visitor(t)
	other.Login(t, "pat@example.com", handlerstest.Password)
	page := handlerstest.Body(t, c.Get(t, "/account"))
	if strings.Count(page, "/account/sessions/") != 1 || !strings.Contains(page, "this browser") {
		t.Fatalf("sessions list: %s", page)
	}
	m := regexp.MustCompile(`/account/sessions/([0-9a-f]{64})/delete`).FindStringSubmatch(page)
	resp := c.PostForm(t, m[0], nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end session: %d", resp.StatusCode)
	}
	if resp := other.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("ended session still works: %d", resp.StatusCode)
	}
	if resp := c.Get(t, "/account"); resp.StatusCode != 200 {
		t.Errorf("own session ended: %d", resp.StatusCode)
	}
}
