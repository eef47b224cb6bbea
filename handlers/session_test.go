package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// replay sends a GET with exactly the given session cookie value.
func replay(t *testing.T, env *handlerstest.Env, path, cookie string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", env.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: handlers.SessionCookie, Value: cookie})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func cookieOf(t *testing.T, env *handlerstest.Env, c *handlerstest.Client) string {
	t.Helper()
	u, _ := url.Parse(env.URL)
	for _, k := range c.HTTP.Jar.Cookies(u) {
		if k.Name == handlers.SessionCookie {
			return k.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestSignInRotatesSessionID(t *testing.T) {
	env := handlerstest.NewServer(t)
	env.CreateUser(t, "pat@example.com", store.RoleProspect)
	c := env.Visitor(t)
	c.Get(t, "/login").Body.Close()
	planted := cookieOf(t, env, c)
	c.Login(t, "pat@example.com", handlerstest.Password)
	if cookieOf(t, env, c) == planted {
		t.Fatal("session id kept across sign-in")
	}
	if resp := replay(t, env, "/account", planted); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the pre-sign-in id is signed in: %d", resp.StatusCode)
	}
}

func TestSignOutEndsSessionOnServer(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	id := cookieOf(t, env, c)
	if resp := replay(t, env, "/account", id); resp.StatusCode != 200 {
		t.Fatalf("before sign-out: %d", resp.StatusCode)
	}
	// Opening /logout signs nobody out: it offers the button that does.
	resp := c.Get(t, "/logout")
	if body := handlerstest.Body(t, resp); resp.StatusCode != 200 || !strings.Contains(body, `action="/logout"`) || !strings.Contains(body, `name="csrf_token"`) {
		t.Fatalf("GET /logout: %d", resp.StatusCode)
	}
	if resp := replay(t, env, "/account", id); resp.StatusCode != 200 {
		t.Fatalf("GET /logout ended the session: %d", resp.StatusCode)
	}
	resp = c.PostForm(t, "/logout", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := replay(t, env, "/account", id); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the cookie still works after sign-out: %d", resp.StatusCode)
	}
	if resp := c.Get(t, "/logout"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("GET /logout signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSignOutEverywhere(t *testing.T) {
	env := handlerstest.NewServer(t)
	a := env.SignUp(t, "pat@example.com", store.RoleProspect)
	b := env.Visitor(t)
	b.Login(t, "pat@example.com", handlerstest.Password)
	other := env.SignUp(t, "sam@example.com", store.RoleProspect)
	resp := a.PostForm(t, "/logout/everywhere", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", resp.StatusCode)
	}
	for name, c := range map[string]*handlerstest.Client{"this browser": a, "other browser": b} {
		if resp := c.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s still signed in: %d", name, resp.StatusCode)
		}
	}
	if resp := other.Get(t, "/account"); resp.StatusCode != 200 {
		t.Errorf("another user was signed out: %d", resp.StatusCode)
	}
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Auth.SessionIdle = time.Hour
		h.Auth.SessionLifetime = 3 * time.Hour
	})
	t.Run("idle", func(t *testing.T) {
		c := env.SignUp(t, "idle@example.com", store.RoleProspect)
		env.Advance(59 * time.Minute)
		if resp := c.Get(t, "/account"); resp.StatusCode != 200 {
			t.Fatalf("within the idle time: %d", resp.StatusCode)
		}
		env.Advance(61 * time.Minute)
		if resp := c.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after the idle time: %d", resp.StatusCode)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		c := env.SignUp(t, "busy@example.com", store.RoleProspect)
		for range 5 { // active every 50 minutes: never idle, but past 3 hours
			env.Advance(50 * time.Minute)
			c.Get(t, "/account").Body.Close()
		}
		env.Advance(time.Minute)
		if resp := c.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after the lifetime: %d", resp.StatusCode)
		}
	})
}

func TestVisitorRedirectedToLogin(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.Visitor(t)
	for _, tc := range []struct{ path, want string }{
		{"/account", "/login?next=%2Faccount"},
		{"/apps", "/login?next=%2Fapps"},
		{"/admin", "/login?next=%2Fadmin"},
		{"/admin/users?q=x", "/login?next=%2Fadmin%2Fusers%3Fq%3Dx"},
		{"/sales", "/login?next=%2Fsales"},
	} {
		resp := c.Get(t, tc.path)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
	req, _ := http.NewRequest("GET", env.URL+"/account", nil)
	req.Header.Set("HX-Request", "true")
	resp := c.Do(t, req)
	resp.Body.Close()
	if resp.Header.Get("HX-Redirect") != "/login?next=%2Faccount" {
		t.Errorf("htmx visitor: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}

func TestSessionRowsHoldNoSecret(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	id := cookieOf(t, env, c)
	ss, err := env.DB.ListUserSessions(context.Background(), c.User.ID)
	if err != nil || len(ss) != 1 {
		t.Fatalf("sessions: %v %v", ss, err)
	}
	if ss[0].IDHash != store.HashSessionID(id) || strings.Contains(string(ss[0].Data), id) || strings.Contains(string(ss[0].Data), c.CSRF()) {
		t.Fatalf("session row holds the id or CSRF token")
	}
}
