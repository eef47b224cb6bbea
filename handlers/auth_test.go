package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

func TestSignUpSignsInAndSetsCookieFlags(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.Visitor(t)
	resp := c.Get(t, "/signup")
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="csrf_token"`) {
		t.Fatalf("signup page: %d %s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-") {
		t.Errorf("CSP %q", csp)
	}
	pw := "a fine long passphrase"
	resp = c.PostForm(t, "/signup", url.Values{"name": {"Pat"}, "email": {" Pat@Example.COM "}, "company": {"ACME"}, "password": {pw}})
	handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/apps" {
		t.Fatalf("signup: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "af_session" && k.Value != "" {
			ck = k
		}
	}
	if ck == nil {
		t.Fatal("no session cookie set at sign-up")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" || ck.Path != "/" || ck.Secure {
		t.Errorf("cookie flags: %+v", ck)
	}
	u, err := env.DB.UserByEmail(t.Context(), "pat@example.com")
	if err != nil || u.Role != store.RoleProspect || u.Company != "ACME" {
		t.Fatalf("user: %+v %v", u, err)
	}
	if resp := c.Get(t, "/apps"); resp.StatusCode != 200 {
		t.Errorf("/apps after sign-up: %d", resp.StatusCode)
	}
}

func TestCSRFRefused(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	for _, tc := range []struct {
		name, token string
	}{{"missing", ""}, {"wrong", "not-the-token"}} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"name": {"x"}}
			req, _ := http.NewRequest("POST", env.URL+"/account/tokens", strings.NewReader(form.Encode()+"&csrf_token="+tc.token))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
			if ts, _ := env.DB.ListTokens(t.Context(), c.User.ID); len(ts) != 0 {
				t.Errorf("a token was made: %v", ts)
			}
		})
	}
}
