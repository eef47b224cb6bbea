package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/orchestrator/stack"
	"appfactory/store"
	"appfactory/webhooks"
)

type hooksEnv struct {
	*handlerstest.Env
	disp                      *webhooks.Dispatcher
	admin, seller, prospect   *handlerstest.Client
	adminTok, sellerTok, pTok string
}

// newHooksEnv serves the webhook pages and API with a guard that allows
// loopback (the tests' receivers) and refuses the tenant networks.
func newHooksEnv(t *testing.T) *hooksEnv {
	t.Helper()
	he := &hooksEnv{Env: handlerstest.NewServer(t)}
	g := &webhooks.Guard{AllowLoopback: true, Tenants: []netip.Prefix{netip.MustParsePrefix(stack.DefaultSubnetPool)}}
	he.disp = &webhooks.Dispatcher{DB: he.DB, Guard: g}
	(&handlers.Webhooks{H: he.Handlers, Service: &webhooks.Service{DB: he.DB, Guard: g, Logger: he.Handlers.Logger}}).Register(he.Web.Echo())
	he.admin = he.SignUp(t, "admin@example.com", store.RoleAdmin)
	he.seller = he.SignUp(t, "seller@example.com", store.RoleSales)
	he.prospect = he.SignUp(t, "pat@example.com", store.RoleProspect)
	he.adminTok, he.sellerTok, he.pTok = he.Token(t, he.admin.User.ID), he.Token(t, he.seller.User.ID), he.Token(t, he.prospect.User.ID)
	return he
}

// api sends a JSON request with a bearer token and decodes the answer.
func (he *hooksEnv) api(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, he.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		b, _ := io.ReadAll(resp.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
			}
		}
	}
	return resp.StatusCode
}

// sink is a loopback receiver that counts what it got.
type sink struct {
	URL  string
	mu   sync.Mutex
	got  []http.Header
	body [][]byte
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got, s.body = append(s.got, r.Header.Clone()), append(s.body, b)
		s.mu.Unlock()
		_, _ = io.WriteString(w, "thanks")
	}))
	t.Cleanup(ts.Close)
	s.URL = ts.URL + "/in"
	return s
}

func (s *sink) n() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.got) }

func TestWebhookPagesAreForAdminsOnly(t *testing.T) {
	he := newHooksEnv(t)
	for _, c := range []*handlerstest.Client{he.seller, he.prospect} {
		for _, path := range []string{"/admin/webhooks", "/admin/webhooks/x"} {
			if resp := c.Get(t, path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", c.User.Role, path, resp.StatusCode)
			}
		}
		resp := c.PostForm(t, "/admin/webhooks", url.Values{"url": {"http://127.0.0.1:9/"}, "events": {store.EventSignUp}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s POST: %d, want 403", c.User.Role, resp.StatusCode)
		}
	}
	for _, tok := range []string{he.sellerTok, he.pTok} {
		var e apiError
		if st := he.api(t, "GET", "/api/v1/admin/webhooks", tok, nil, &e); st != http.StatusForbidden || e.Error.Code == "" {
			t.Errorf("API list: %d %+v, want 403 with a JSON error", st, e)
		}
		if st := he.api(t, "POST", "/api/v1/admin/webhooks", tok, map[string]any{"url": "http://127.0.0.1:9/", "events": []string{"signup"}}, &e); st != http.StatusForbidden {
			t.Errorf("API create: %d, want 403", st)
		}
	}
	if resp := he.Visitor(t).Get(t, "/admin/webhooks"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("visitor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ws, _ := he.DB.ListWebhooks(context.Background()); len(ws) != 0 {
		t.Fatalf("hooks written: %+v", ws)
	}
}

func TestWebhookFormNeedsCSRF(t *testing.T) {
	he := newHooksEnv(t)
	form := url.Values{"url": {"http://127.0.0.1:9/"}, "events": {store.EventSignUp}, "csrf_token": {"forged"}}
	req, _ := http.NewRequest("POST", he.URL+"/admin/webhooks", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := he.admin.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := handlerstest.Body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
		t.Fatalf("forged token: %d", resp.StatusCode)
	}
	if ws, _ := he.DB.ListWebhooks(context.Background()); len(ws) != 0 {
		t.Fatalf("hooks written: %+v", ws)
	}
}

func TestAdminManagesWebhooksInThePortal(t *testing.T) {
	he := newHooksEnv(t)
	ctx := context.Background()
	rcv := newSink(t)
	page := he.admin.Get(t, "/admin/webhooks")
	if body := handlerstest.Body(t, page); page.StatusCode != 200 || !strings.Contains(body, `name="csrf_token"`) || !strings.Contains(body, store.EventTrialExpiring) {
		t.Fatalf("list page %d", page.StatusCode)
	}

	// Refused: the tenant networks, and an unknown event.
	resp := he.admin.PostForm(t, "/admin/webhooks", url.Values{"url": {"http://10.213.0.7/"}, "events": {store.EventSignUp}, "enabled": {"true"}})
	if body := handlerstest.Body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "tenant networks") || !strings.Contains(body, "http://10.213.0.7/") {
		t.Fatalf("tenant-network hook: %d %s", resp.StatusCode, body)
	}
	resp = he.admin.PostForm(t, "/admin/webhooks", url.Values{"url": {rcv.URL}, "events": {"bogus"}})
	if body := handlerstest.Body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Unknown event") {
		t.Fatalf("unknown event: %d", resp.StatusCode)
	}

	resp = he.admin.PostForm(t, "/admin/webhooks", url.Values{"url": {rcv.URL}, "description": {"CRM"},
		"events": {store.EventSignUp, store.EventDeleted}, "enabled": {"true"}})
	body := handlerstest.Body(t, resp)
	ws, _ := he.DB.ListWebhooks(ctx)
	if resp.StatusCode != http.StatusCreated || len(ws) != 1 || !strings.Contains(body, ws[0].Secret) {
		t.Fatalf("create: %d, hooks %d", resp.StatusCode, len(ws))
	}
	hook := ws[0]
	if got := hook.Events(); len(got) != 2 || !hook.Enabled || hook.Description != "CRM" {
		t.Fatalf("hook %+v", hook)
	}
	if body := handlerstest.Body(t, he.admin.Get(t, "/admin/webhooks")); strings.Contains(body, hook.Secret) {
		t.Error("the secret is shown again")
	}
	if strings.Contains(he.Logs(), hook.Secret) {
		t.Error("the secret is in the log")
	}

	// Edit the events, then disable.
	resp = he.admin.PostForm(t, "/admin/webhooks/"+hook.ID, url.Values{"url": {rcv.URL}, "events": {store.EventTrialExtended}, "enabled": {"true"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", resp.StatusCode, handlerstest.Body(t, resp))
	}
	if h, _ := he.DB.WebhookByID(ctx, hook.ID); len(h.Events()) != 1 || h.Events()[0] != store.EventTrialExtended || h.Secret != hook.Secret {
		t.Fatalf("edited %+v", h)
	}
	if resp = he.admin.PostForm(t, "/admin/webhooks/"+hook.ID+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if h, _ := he.DB.WebhookByID(ctx, hook.ID); h.Enabled {
		t.Fatal("still enabled")
	}
	he.admin.PostForm(t, "/admin/webhooks/"+hook.ID+"/enable", nil).Body.Close()

	// A delivery shows with its answer, and is re-sent.
	if _, err := he.DB.EnqueueWebhookEvent(ctx, store.EventTrialExtended, map[string]string{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	if _, err := he.disp.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	ds, _ := he.DB.WebhookDeliveries(ctx, hook.ID, 10)
	detail := handlerstest.Body(t, he.admin.Get(t, "/admin/webhooks/"+hook.ID))
	for _, want := range []string{"delivery-" + ds[0].ID, "delivered", "thanks", "200", "Re-send"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if resp = he.admin.PostForm(t, "/admin/webhooks/"+hook.ID+"/deliveries/"+ds[0].ID+"/redeliver", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redeliver: %d", resp.StatusCode)
	}
	if _, err := he.disp.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if rcv.n() != 2 {
		t.Fatalf("receiver got %d, want 2", rcv.n())
	}

	if resp = he.admin.PostForm(t, "/admin/webhooks/"+hook.ID+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if ws, _ := he.DB.ListWebhooks(ctx); len(ws) != 0 {
		t.Fatalf("left: %+v", ws)
	}
}

func TestWebhookAPI(t *testing.T) {
	he := newHooksEnv(t)
	ctx := context.Background()
	rcv := newSink(t)
	var e apiError
	if st := he.api(t, "POST", "/api/v1/admin/webhooks", he.adminTok, map[string]any{"url": "ftp://127.0.0.1/", "events": []string{"signup"}}, &e); st != 400 || e.Error.Code != "invalid" || e.Error.Message == "" {
		t.Fatalf("bad URL: %d %+v", st, e)
	}
	if st := he.api(t, "POST", "/api/v1/admin/webhooks", he.adminTok, map[string]any{"url": rcv.URL, "events": []string{"signup"}, "secret": "mine"}, &e); st != 400 {
		t.Fatalf("unknown field: %d", st)
	}
	var created handlers.WebhookJSON
	if st := he.api(t, "POST", "/api/v1/admin/webhooks", he.adminTok, map[string]any{"url": rcv.URL, "events": []string{"signup"}}, &created); st != 201 || created.Secret == "" || !created.Enabled {
		t.Fatalf("create: %d %+v", st, created)
	}
	var list struct{ Webhooks []handlers.WebhookJSON }
	if st := he.api(t, "GET", "/api/v1/admin/webhooks", he.adminTok, nil, &list); st != 200 || len(list.Webhooks) != 1 || list.Webhooks[0].Secret != "" {
		t.Fatalf("list: %d %+v", st, list)
	}
	var patched handlers.WebhookJSON
	if st := he.api(t, "PATCH", "/api/v1/admin/webhooks/"+created.ID, he.adminTok, map[string]any{"events": []string{"signup", "tenant.deployed"}}, &patched); st != 200 || len(patched.Events) != 2 || patched.URL != rcv.URL {
		t.Fatalf("patch: %d %+v", st, patched)
	}
	if st := he.api(t, "PATCH", "/api/v1/admin/webhooks/"+created.ID, he.adminTok, map[string]any{"url": "http://[::1]:1/"}, &e); st != 200 {
		t.Fatalf("loopback allowed, patch: %d %+v", st, e)
	}
	if st := he.api(t, "PATCH", "/api/v1/admin/webhooks/"+created.ID, he.adminTok, map[string]any{"url": rcv.URL}, nil); st != 200 {
		t.Fatalf("patch back: %d", st)
	}
	if st := he.api(t, "GET", "/api/v1/admin/webhooks/nope", he.adminTok, nil, &e); st != 404 || e.Error.Code != "not_found" {
		t.Fatalf("unknown hook: %d %+v", st, e)
	}

	// A sign-up through the portal's form is delivered, signed.
	v := he.Visitor(t)
	v.Get(t, "/signup").Body.Close()
	if resp := v.PostForm(t, "/signup", url.Values{"name": {"Lee"}, "email": {"lee@example.com"}, "company": {"Initech"}, "password": {"a fine long passphrase"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	if _, err := he.disp.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if rcv.n() != 1 || !webhooks.Verify(created.Secret, rcv.got[0].Get("X-Appfactory-Timestamp"), rcv.body[0], rcv.got[0].Get("X-Appfactory-Signature")) ||
		!strings.Contains(string(rcv.body[0]), `"email":"lee@example.com"`) {
		t.Fatalf("sign-up delivery: %d %s", rcv.n(), rcv.body)
	}
	var ds struct{ Deliveries []handlers.DeliveryJSON }
	if st := he.api(t, "GET", "/api/v1/admin/webhooks/"+created.ID+"/deliveries", he.adminTok, nil, &ds); st != 200 || len(ds.Deliveries) != 1 ||
		ds.Deliveries[0].State != "delivered" || ds.Deliveries[0].Attempts != 1 || ds.Deliveries[0].LastStatus != 200 || ds.Deliveries[0].LastBody != "thanks" {
		t.Fatalf("deliveries: %d %+v", st, ds)
	}
	var again handlers.DeliveryJSON
	if st := he.api(t, "POST", "/api/v1/admin/webhooks/"+created.ID+"/deliveries/"+ds.Deliveries[0].ID+"/redeliver", he.adminTok, nil, &again); st != 202 || again.RedeliveryOf != ds.Deliveries[0].ID || again.State != "pending" {
		t.Fatalf("redeliver: %d %+v", st, again)
	}
	if st := he.api(t, "POST", "/api/v1/admin/webhooks/"+created.ID+"/deliveries/nope/redeliver", he.adminTok, nil, &e); st != 404 {
		t.Fatalf("redeliver unknown: %d", st)
	}
	if st := he.api(t, "DELETE", "/api/v1/admin/webhooks/"+created.ID, he.adminTok, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st := he.api(t, "DELETE", "/api/v1/admin/webhooks/"+created.ID, he.adminTok, nil, &e); st != 404 {
		t.Fatalf("delete again: %d", st)
	}
}
