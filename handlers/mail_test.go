package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"appfactory/handlers/handlerstest"
	"appfactory/mail"
	"appfactory/mail/mailtest"
	"appfactory/store"
)

// mailbox relays the portal's outbox to a real SMTP server in the test
// process and returns what arrived there.
type mailbox struct {
	env   *handlerstest.Env
	relay *mail.Relay
	srv   *mailtest.Server
}

func newMailbox(t *testing.T, env *handlerstest.Env) *mailbox {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	s, err := mail.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &mailbox{env: env, srv: srv, relay: mail.NewRelay(mail.Relay{DB: env.DB, Sender: s, From: "appfactory <noreply@example.com>"})}
}

// deliver sends everything due and returns the messages to an address.
func (m *mailbox) deliver(t *testing.T, to string) []mailtest.Received {
	t.Helper()
	for {
		sent, err := m.relay.SendOne(context.Background(), "test")
		if err != nil {
			t.Fatal(err)
		}
		if !sent {
			break
		}
	}
	var out []mailtest.Received
	for _, r := range m.srv.Messages() {
		if r.To == to {
			out = append(out, r)
		}
	}
	return out
}

// link finds a link of the portal below prefix ("/reset/") in a mail's text
// and returns its path.
func link(t *testing.T, env *handlerstest.Env, r mailtest.Received, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(env.URL+prefix) + `[A-Za-z0-9_-]+`).FindString(r.Text)
	if m == "" {
		t.Fatalf("no %s link in the mail %q:\n%s", prefix, r.Subject, r.Text)
	}
	if !strings.Contains(r.HTML, `href="`+m+`"`) {
		t.Errorf("the HTML part lacks the link %s", m)
	}
	return strings.TrimPrefix(m, env.URL)
}

func signUpForm(t *testing.T, env *handlerstest.Env, email string) *handlerstest.Client {
	t.Helper()
	c := env.Visitor(t)
	c.Get(t, "/signup").Body.Close()
	st, _, body := post(t, c, "/signup", url.Values{"name": {"Pia Prospect"}, "email": {email}, "company": {"Pia Co"}, "password": {"a long enough passw0rd"}})
	if st != http.StatusSeeOther {
		t.Fatalf("sign up: %d %s", st, body)
	}
	return c
}

func TestSignUpVerificationGatesDeploys(t *testing.T) {
	env, _ := newTenantEnv(t)
	env.Handlers.Mail.RequireVerified = true
	box := newMailbox(t, env)
	c := signUpForm(t, env, "pia@example.com")
	got := box.deliver(t, "pia@example.com")
	if len(got) != 1 || !strings.Contains(got[0].Subject, "Confirm your email") {
		t.Fatalf("mails after sign-up: %+v", got)
	}
	if got[0].Header.Get("List-Unsubscribe") != "" || !strings.Contains(got[0].Text, "security mail") {
		t.Errorf("the confirmation is security mail, without unsubscribe:\n%s", got[0].Text)
	}
	verify := link(t, env, got[0], "/verify/")

	u, _ := env.DB.UserByEmail(context.Background(), "pia@example.com")
	app := readyApp(t, env.DB, u, "Pia docs")
	tok := env.Token(t, u.ID)
	if st := callAPI(t, env, tok, "POST", "/api/v1/apps/"+app.ID+"/deploy", "{}", nil); st != http.StatusForbidden {
		t.Fatalf("deploy before confirming: %d, want 403", st)
	}
	if st, body := get(t, c, "/account"); st != 200 || !strings.Contains(body, "not confirmed yet") {
		t.Fatalf("account page: %d", st)
	}
	if st, loc, _ := getLoc(t, c, verify); st != http.StatusSeeOther || loc != "/apps" {
		t.Fatalf("verify: %d %s", st, loc)
	}
	if st := callAPI(t, env, tok, "POST", "/api/v1/apps/"+app.ID+"/deploy", "{}", nil); st != http.StatusAccepted {
		t.Fatalf("deploy after confirming: %d", st)
	}
	if st, _, _ := getLoc(t, c, verify); st != http.StatusNotFound {
		t.Errorf("a used confirmation link: %d, want 404", st)
	}
	// Without RequireVerified (no SMTP), deploys never wait.
	env.Handlers.Mail.RequireVerified = false
	signUpForm(t, env, "quick@example.com")
	q, _ := env.DB.UserByEmail(context.Background(), "quick@example.com")
	if st := callAPI(t, env, env.Token(t, q.ID), "POST", "/api/v1/apps/"+readyApp(t, env.DB, q, "Q").ID+"/deploy", "{}", nil); st != http.StatusAccepted {
		t.Errorf("deploy unconfirmed without the requirement: %d", st)
	}
}

// csrfValue is a page's session-bound token, which differs between visitors.
var csrfValue = regexp.MustCompile(`name="csrf_token" value="[^"]*"|X-CSRF-Token&#34;:&#34;[^&]*&#34;`)

func getLoc(t *testing.T, c *handlerstest.Client, path string) (int, string, string) {
	t.Helper()
	resp := c.Get(t, path)
	body := handlerstest.Body(t, resp)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

func forgot(t *testing.T, env *handlerstest.Env, email string) (int, string) {
	t.Helper()
	c := env.Visitor(t)
	c.Get(t, "/forgot").Body.Close()
	st, _, body := post(t, c, "/forgot", url.Values{"email": {email}})
	return st, body
}

func TestPasswordReset(t *testing.T) {
	env := handlerstest.NewServer(t)
	box := newMailbox(t, env)
	pia := env.SignUp(t, "pia@example.com", store.RoleProspect)

	// Known and unknown addresses get the same answer; only the known one a mail.
	st1, known := forgot(t, env, "pia@example.com")
	st2, unknown := forgot(t, env, "nobody@example.com")
	if st1 != 200 || st2 != 200 {
		t.Fatalf("forgot: %d, %d", st1, st2)
	}
	same := func(body, email string) string {
		return csrfValue.ReplaceAllString(strings.ReplaceAll(body, email, "X"), "")
	}
	if same(known, "pia@example.com") != same(unknown, "nobody@example.com") {
		t.Error("the answer differs for an unknown address")
	}
	if len(box.deliver(t, "nobody@example.com")) != 0 {
		t.Error("a mail went to an address without an account")
	}
	got := box.deliver(t, "pia@example.com")
	if len(got) != 1 || !strings.Contains(got[0].Subject, "Reset your") {
		t.Fatalf("reset mails: %+v", got)
	}
	reset := link(t, env, got[0], "/reset/")

	v := env.Visitor(t)
	if st, body := get(t, v, reset); st != 200 || !strings.Contains(body, "Choose a new password") {
		t.Fatalf("reset page: %d", st)
	}
	if st, _, _ := post(t, v, reset, url.Values{"new_password": {"short"}}); st != http.StatusUnprocessableEntity {
		t.Errorf("a short password: %d", st)
	}
	if st, loc, _ := post(t, v, reset, url.Values{"new_password": {"a brand new passphrase"}}); st != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("reset: %d %s", st, loc)
	}
	// The old sessions ended; the new password signs in; the link is used up.
	if st, _, _ := getLoc(t, pia, "/account"); st != http.StatusSeeOther {
		t.Errorf("the session of before the reset still works: %d", st)
	}
	env.Visitor(t).Login(t, "pia@example.com", "a brand new passphrase")
	if st, _ := get(t, v, reset); st != http.StatusNotFound {
		t.Errorf("a used link: %d, want 404", st)
	}
	if st, _, _ := post(t, v, reset, url.Values{"new_password": {"yet another passphrase"}}); st != http.StatusNotFound {
		t.Errorf("posting a used link: %d, want 404", st)
	}

	// An expired link is refused.
	forgot(t, env, "pia@example.com")
	later := link(t, env, box.deliver(t, "pia@example.com")[1], "/reset/")
	env.Advance(61 * time.Minute)
	if st, _ := get(t, v, later); st != http.StatusNotFound {
		t.Errorf("an expired link: %d, want 404", st)
	}
	if st, _, _ := post(t, v, later, url.Values{"new_password": {"yet another passphrase"}}); st != http.StatusNotFound {
		t.Errorf("posting an expired link: %d, want 404", st)
	}
}

func TestPasswordResetThrottled(t *testing.T) {
	env := handlerstest.NewServer(t)
	box := newMailbox(t, env)
	env.CreateUser(t, "pia@example.com", store.RoleProspect)
	for range 5 {
		if st, _ := forgot(t, env, "pia@example.com"); st != 200 {
			t.Fatalf("forgot: %d", st)
		}
	}
	if n := len(box.deliver(t, "pia@example.com")); n != 3 {
		t.Errorf("%d reset mails to one account within an hour, want 3", n)
	}
	for range 5 {
		forgot(t, env, "someone@example.com")
	}
	if st, body := forgot(t, env, "pia@example.com"); st != http.StatusTooManyRequests || !strings.Contains(body, "Too many") {
		t.Errorf("the 11th request from one address: %d", st)
	}
}

func TestInvitationMailAndAdminResend(t *testing.T) {
	env := handlerstest.NewServer(t)
	box := newMailbox(t, env)
	admin := env.SignUp(t, "admin@example.com", store.RoleAdmin)
	prospect := env.CreateUser(t, "lead@example.com", store.RoleProspect)
	if _, err := env.DB.CreateInvite(context.Background(), prospect.ID, admin.User.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, admin, "/admin/users"); !strings.Contains(body, "Resend invitation") {
		t.Fatal("no Resend invitation on the users page")
	}
	if st, loc, _ := post(t, admin, "/admin/users/"+prospect.ID+"/invite", nil); st != http.StatusSeeOther || loc != "/admin/users" {
		t.Fatalf("resend: %d %s", st, loc)
	}
	got := box.deliver(t, "lead@example.com")
	if len(got) != 1 || !strings.Contains(got[0].Subject, "invited") || got[0].Header.Get("List-Unsubscribe") == "" {
		t.Fatalf("invitation mails: %+v", got)
	}
	inv := link(t, env, got[0], "/invite/")
	if st, body := get(t, env.Visitor(t), inv); st != 200 || !strings.Contains(body, "lead@example.com") {
		t.Fatalf("the mailed invitation: %d", st)
	}
	// An account in use gets no invitation; a prospect cannot resend.
	if st, _, _ := post(t, admin, "/admin/users/"+admin.User.ID+"/invite", nil); st != http.StatusConflict {
		t.Errorf("inviting an account in use: %d", st)
	}
	p := env.SignUp(t, "p@example.com", store.RoleProspect)
	if st, _, _ := post(t, p, "/admin/users/"+prospect.ID+"/invite", nil); st != http.StatusForbidden {
		t.Errorf("a prospect resending: %d", st)
	}
}

func TestOutboxIsForAdmins(t *testing.T) {
	env := handlerstest.NewServer(t)
	admin := env.SignUp(t, "admin@example.com", store.RoleAdmin)
	c := signUpForm(t, env, "pia@example.com")
	st, body := get(t, admin, "/admin/outbox")
	if st != 200 || !strings.Contains(body, "pia@example.com") || !strings.Contains(body, "Development outbox") {
		t.Fatalf("outbox: %d", st)
	}
	ms, _ := env.DB.ListOutbox(context.Background(), 10)
	if st, body := get(t, admin, "/admin/outbox/"+ms[0].ID); st != 200 || !strings.Contains(body, "/verify/") {
		t.Fatalf("one mail: %d", st)
	}
	resp := admin.Get(t, "/admin/outbox/"+ms[0].ID+"/html")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
		t.Errorf("the HTML part's CSP: %q", csp)
	}
	handlerstest.Body(t, resp)
	for _, path := range []string{"/admin/outbox", "/admin/outbox/" + ms[0].ID, "/admin/outbox/" + ms[0].ID + "/html"} {
		if st, _ := get(t, c, path); st != http.StatusForbidden {
			t.Errorf("a prospect opening %s: %d, want 403", path, st)
		}
	}
	if st, loc, _ := getLoc(t, env.Visitor(t), "/admin/outbox"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("a visitor: %d %s", st, loc)
	}
}

func TestUnsubscribeAndMailSettings(t *testing.T) {
	env := handlerstest.NewServer(t)
	pia := env.SignUp(t, "pia@example.com", store.RoleProspect)
	link := env.Handlers.Mail.Composer.UnsubscribeURL(pia.User.ID)
	path := strings.TrimPrefix(link, env.URL)
	v := env.Visitor(t)
	if st, body := get(t, v, path); st != 200 || !strings.Contains(body, "Turn off") {
		t.Fatalf("unsubscribe page: %d", st)
	}
	if u, _ := env.DB.UserByID(context.Background(), pia.User.ID); u.MailOptOut {
		t.Fatal("a GET turned mail off")
	}
	if st, _ := get(t, v, path+"x"); st != http.StatusNotFound {
		t.Errorf("a forged signature: %d", st)
	}
	// One-click (RFC 8058): a mail client's POST, without session or token.
	resp, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click: %d", resp.StatusCode)
	}
	if u, _ := env.DB.UserByID(context.Background(), pia.User.ID); !u.MailOptOut {
		t.Fatal("mail still on after the one-click")
	}
	if _, body := get(t, pia, "/account"); strings.Contains(body, `name="mail" value="on" checked`) {
		t.Error("the account page shows mail on")
	}
	if st, _, _ := post(t, pia, "/account/mail", url.Values{"mail": {"on"}}); st != http.StatusSeeOther {
		t.Fatalf("mail settings: %d", st)
	}
	if u, _ := env.DB.UserByID(context.Background(), pia.User.ID); u.MailOptOut {
		t.Fatal("mail still off after turning it on")
	}
}
