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
	"appfactory/password"
	"appfactory/store"
	"appfactory/web"
)

// sessionCookie is the last session cookie a response sets (a sign-in
// first expires the visitor's cookie, then sets the new one).
func sessionCookie(resp *http.Response) *http.Cookie {
	var last *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == handlers.SessionCookie {
			last = k
		}
	}
	return last
}

func TestSignUpSignsInAndSetsCookieFlags(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.Visitor(t)
	resp := c.Get(t, "/signup")
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="csrf_token"`) {
		t.Fatalf("signup page: %d %s", resp.StatusCode, body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Errorf("inline script or style on the sign-up page")
	}
	visitorCookie := c.CSRF()
	resp = c.PostForm(t, "/signup", url.Values{"name": {"Pat"}, "email": {" Pat@Example.COM "}, "company": {"ACME"}, "password": {"a fine long passphrase"}})
	handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/apps" {
		t.Fatalf("signup: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := sessionCookie(resp)
	if ck == nil || ck.Value == "" {
		t.Fatal("no session cookie set at sign-up")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" || ck.Path != "/" || ck.Secure || ck.MaxAge <= 0 {
		t.Errorf("cookie flags: %+v", ck)
	}
	if c.CSRF() == visitorCookie {
		t.Error("the session id did not change at sign-in")
	}
	u, err := env.DB.UserByEmail(t.Context(), "pat@example.com")
	if err != nil || u.Role != store.RoleProspect || u.Company != "ACME" || u.Name != "Pat" {
		t.Fatalf("user: %+v %v", u, err)
	}
	if at, _ := env.DB.LastLogin(t.Context(), u.ID); at.IsZero() {
		t.Error("sign-in not recorded in user_logins")
	}
	if resp := c.Get(t, "/apps"); resp.StatusCode != 200 {
		t.Errorf("/apps after sign-up: %d", resp.StatusCode)
	}
	// A signed-in user who opens /signup or /login goes to their apps.
	for _, p := range []string{"/signup", "/login"} {
		if resp := c.Get(t, p); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s when signed in: %d", p, resp.StatusCode)
		}
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Server = web.New(web.Options{Domain: "localhost", TLS: true, Logger: h.Logger})
	})
	resp, err := http.Get(env.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := sessionCookie(resp)
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie over TLS: %+v", ck)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestSignUpValidation(t *testing.T) {
	env := handlerstest.NewServer(t)
	env.CreateUser(t, "taken@example.com", store.RoleProspect)
	good := url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "company": {"ACME Widgets"}, "password": {"a fine long passphrase"}}
	for _, tc := range []struct {
		name, field, value string
		status             int
		message            string
	}{
		{"no name", "name", "", 422, "Enter your name."},
		{"bad email", "email", "pat@", 422, "Enter an email address like"},
		{"email with name", "email", "Pat <pat@example.com>", 422, "Enter an email address like"},
		{"short password", "password", "short", 422, "at least 8 characters"},
		{"common password", "password", "Qwerty123", 422, "too common"},
		{"duplicate email", "email", "TAKEN@example.com", 409, "An account with this email already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := env.Visitor(t)
			c.Get(t, "/signup").Body.Close()
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(tc.field, tc.value)
			resp := c.PostForm(t, "/signup", form)
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.message) {
				t.Fatalf("status %d, want %d with %q:\n%s", resp.StatusCode, tc.status, tc.message, body)
			}
			if !strings.Contains(body, `value="ACME Widgets"`) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Errorf("the form lost what was typed or marks no field")
			}
			if strings.Contains(body, form.Get("password")) && tc.field != "email" {
				t.Errorf("the password was echoed back")
			}
			if sessionCookie(resp) != nil {
				t.Errorf("a failed sign-up signed in")
			}
		})
	}
	if n, _ := env.DB.ListUsers(t.Context(), store.UserFilter{}); len(n) != 1 {
		t.Errorf("users after failed sign-ups: %d", len(n))
	}
}

func TestSignUpHTMXGetsPartialAndRedirect(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.Visitor(t)
	c.Get(t, "/signup").Body.Close()
	post := func(form url.Values) *http.Response {
		req, _ := http.NewRequest("POST", env.URL+"/signup", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		return c.Do(t, req)
	}
	resp := post(url.Values{"name": {"Pat"}, "email": {"nope"}, "password": {"a fine long passphrase"}})
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != 422 || strings.Contains(body, "<html") || !strings.Contains(body, `id="signup-form"`) {
		t.Fatalf("htmx error: %d %s", resp.StatusCode, body)
	}
	resp = post(url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "password": {"a fine long passphrase"}})
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("HX-Redirect") != "/apps" {
		t.Fatalf("htmx success: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}

func TestSignUpThrottledPerAddress(t *testing.T) {
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) { h.Auth.SignUps = 3 })
	for i := range 4 {
		c := env.Visitor(t)
		c.Get(t, "/signup").Body.Close()
		email := "user" + string(rune('a'+i)) + "@example.com"
		resp := c.PostForm(t, "/signup", url.Values{"name": {"U"}, "email": {email}, "password": {"a fine long passphrase"}})
		body := handlerstest.Body(t, resp)
		want := http.StatusSeeOther
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("sign-up %d: %d, want %d: %s", i, resp.StatusCode, want, body)
		}
		if i == 3 && !strings.Contains(body, "Too many sign-ups") {
			t.Errorf("no message: %s", body)
		}
	}
}

func TestLoginWrongPasswordRefusedAndThrottled(t *testing.T) {
	env := handlerstest.NewServer(t)
	u := env.CreateUser(t, "pat@example.com", store.RoleProspect)
	c := env.Visitor(t)
	c.Get(t, "/login").Body.Close()
	login := func(email, pw string) (int, string) {
		resp := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {pw}})
		return resp.StatusCode, handlerstest.Body(t, resp)
	}
	// Unknown account and wrong password get the same answer.
	st1, b1 := login("nobody@example.com", "whatever-password")
	st2, b2 := login("pat@example.com", "wrong-password")
	if st1 != 401 || st2 != 401 || !strings.Contains(b1, "The email or password is not right.") || !strings.Contains(b2, "The email or password is not right.") {
		t.Fatalf("wrong credentials: %d %d", st1, st2)
	}
	if strings.Contains(b2, "wrong-password") || !strings.Contains(b2, `value="pat@example.com"`) {
		t.Errorf("form should keep the email and drop the password")
	}
	if resp := c.Get(t, "/apps"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("wrong password reached /apps: %d", resp.StatusCode)
	}
	for range 8 {
		login("pat@example.com", "wrong-password")
	}
	// Ten failures for the account: even the right password is refused now.
	st, body := login("pat@example.com", handlerstest.Password)
	if st != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("after 10 failures: %d %s", st, body)
	}
	// Later (the window has passed), the right password works and clears the count.
	env.Advance(16 * time.Minute)
	if st, _ := login("pat@example.com", handlerstest.Password); st != http.StatusSeeOther {
		t.Fatalf("after the window: %d", st)
	}
	if resp := c.Get(t, "/account"); resp.StatusCode != 200 {
		t.Fatalf("signed in as %s: %d", u.Email, resp.StatusCode)
	}
}

func TestLoginThrottledPerAddress(t *testing.T) {
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) { h.Auth.SignInFailures = 3 })
	env.CreateUser(t, "pat@example.com", store.RoleProspect)
	c := env.Visitor(t)
	c.Get(t, "/login").Body.Close()
	// Three failures, each on another account, from one address.
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		resp := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {"wrong-password"}})
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("%s: %d", email, resp.StatusCode)
		}
	}
	resp := c.PostForm(t, "/login", url.Values{"email": {"pat@example.com"}, "password": {handlerstest.Password}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("address not throttled: %d", resp.StatusCode)
	}
}

func TestLoginRehashesOldPasswordHashes(t *testing.T) {
	env := handlerstest.NewServer(t)
	u := env.CreateUser(t, "pat@example.com", store.RoleProspect)
	old, _ := password.HashWith(handlerstest.Password, password.Params{Memory: 8 * 1024, Time: 1, Threads: 1})
	if err := env.DB.SetPassword(context.Background(), u.ID, old); err != nil {
		t.Fatal(err)
	}
	env.Visitor(t).Login(t, u.Email, handlerstest.Password)
	got, _ := env.DB.UserByID(context.Background(), u.ID)
	if got.PasswordHash == old || !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %s", got.PasswordHash)
	}
	env.Visitor(t).Login(t, u.Email, handlerstest.Password)
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	if err := env.DB.SetUserDisabled(context.Background(), c.User.ID, true); err != nil {
		t.Fatal(err)
	}
	if resp := c.Get(t, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled user still in: %d", resp.StatusCode)
	}
	c.Get(t, "/login").Body.Close()
	resp := c.PostForm(t, "/login", url.Values{"email": {"pat@example.com"}, "password": {handlerstest.Password}})
	if body := handlerstest.Body(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "disabled") {
		t.Fatalf("disabled sign-in: %d %s", resp.StatusCode, body)
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	env := handlerstest.NewServer(t)
	env.CreateUser(t, "pat@example.com", store.RoleProspect)
	for _, tc := range []struct{ next, want string }{
		{"/account", "/account"},
		{"/apps?x=1", "/apps?x=1"},
		{"//evil.example/x", "/apps"},
		{"/\\evil.example", "/apps"},
		{"https://evil.example/", "/apps"},
		{"javascript:alert(1)", "/apps"},
		{"/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"},
		{"", "/apps"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			c := env.Visitor(t)
			page := handlerstest.Body(t, c.Get(t, "/login?next="+url.QueryEscape(tc.next)))
			if strings.Contains(page, "evil.example") {
				t.Errorf("the login form carries an unsafe next")
			}
			resp := c.PostForm(t, "/login", url.Values{"email": {"pat@example.com"}, "password": {handlerstest.Password}, "next": {tc.next}})
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != tc.want {
				t.Errorf("next %q: %d to %q, want %q", tc.next, resp.StatusCode, loc, tc.want)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct {
		next string
		ok   bool
	}{
		{"/", true}, {"/apps/x?y=z#f", true}, {"", false}, {"//x", false}, {"/\\x", false}, {"/\\/x", false},
		{"http://x", false}, {"x", false}, {"/a\nb", false}, {"/a\\b", false}, {"\t/x", false},
	} {
		if got := handlers.SafeNext(tc.next); got != tc.ok {
			t.Errorf("SafeNext(%q) = %v", tc.next, got)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "/apps?next=//x", "https://x", "/%2f%2fx", "/\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		if !handlers.SafeNext(next) {
			return
		}
		// Whatever is accepted must resolve to this host when a browser follows it.
		base, _ := url.Parse("http://portal.example/login")
		ref, err := url.Parse(next)
		if err != nil {
			t.Fatalf("accepted unparsable %q", next)
		}
		if u := base.ResolveReference(ref); u.Host != "portal.example" {
			t.Fatalf("SafeNext(%q) leaves the host: %s", next, u)
		}
	})
}
