package webhooks_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/orchestrator/stack"
	"appfactory/store"
	"appfactory/webhooks"
)

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a loopback HTTP server that answers with the statuses given
// (then 200) and keeps what it got.
type receiver struct {
	URL string
	mu  sync.Mutex
	got []received
	// statuses are answered in order; once spent, 200.
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Header: req.Header.Clone(), Body: b})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("answer " + http.StatusText(status)))
	}))
	t.Cleanup(ts.Close)
	r.URL = ts.URL + "/hook"
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type env struct {
	db    *store.DB
	svc   *webhooks.Service
	disp  *webhooks.Dispatcher
	admin *store.User
}

func pool(t *testing.T) netip.Prefix {
	t.Helper()
	return netip.MustParsePrefix(stack.DefaultSubnetPool)
}

// newEnv opens a real store and a service and dispatcher whose guard
// allows loopback (the receivers are on 127.0.0.1) but not the tenant
// networks.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g := &webhooks.Guard{AllowLoopback: true, Tenants: []netip.Prefix{pool(t)}}
	e := &env{db: db, svc: &webhooks.Service{DB: db, Guard: g},
		disp: &webhooks.Dispatcher{DB: db, Guard: g, Backoff: time.Nanosecond, MaxAttempts: 3}}
	e.admin = &store.User{Email: "admin@example.com", Name: "Admin", PasswordHash: "x", Role: store.RoleAdmin}
	if err := db.CreateUser(ctx, e.admin); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) hook(t *testing.T, url string, events ...string) (*store.Webhook, string) {
	t.Helper()
	w, secret, err := e.svc.Create(context.Background(), webhooks.Input{URL: url, Events: events, Enabled: true}, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	return w, secret
}

// drain runs the dispatcher until nothing is due.
func (e *env) drain(t *testing.T) {
	t.Helper()
	for range 20 {
		n, err := e.disp.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("deliveries keep coming due")
}

func (e *env) deliveries(t *testing.T, hookID string) []store.WebhookDelivery {
	t.Helper()
	ds, err := e.db.WebhookDeliveries(context.Background(), hookID, 50)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// tenant writes an app and a pending tenant of a new prospect.
func (e *env) tenant(t *testing.T, slug string) *store.Tenant {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Email: slug + "@example.com", Name: "Pat " + slug, Company: "Acme", PasswordHash: "x", Role: store.RoleProspect}
	if err := e.db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := &store.App{ID: store.NewID(), OwnerID: u.ID, Name: "App", Status: store.AppReady}
	if err := e.db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{AppID: a.ID, OwnerID: u.ID, CreatedBy: u.ID, Slug: slug, Title: "Docs of " + slug,
		Platform: "contentapp", Version: "1", Environment: "trial", Replicas: 1,
		ExpiresAt: store.TimeOf(time.Now().Add(72 * time.Hour))}
	if err := e.db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return tn
}

type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

func decode(t *testing.T, b []byte) envelope {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return env
}

func TestDeliverySignedWithTheHooksSecret(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t)
	w, secret := e.hook(t, rcv.URL, store.EventSignUp)
	if strings.Contains(w.EventsJSON, secret) || secret == "" {
		t.Fatalf("secret %q", secret)
	}
	u := &store.User{ID: store.NewID(), Email: "pat@example.com", Name: "Pat", Company: "Acme", PasswordHash: "x", Role: store.RoleProspect}
	sess := &store.Session{IDHash: "h-" + u.ID, UserID: sql.NullString{String: u.ID, Valid: true}, CreatedAt: store.TimeOf(time.Now()), LastSeenAt: store.TimeOf(time.Now()), ExpiresAt: store.TimeOf(time.Now().Add(time.Hour))}
	if err := e.db.SignUp(context.Background(), u, sess, ""); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	h, body := got[0].Header, got[0].Body
	if !webhooks.Verify(secret, h.Get("X-Appfactory-Timestamp"), body, h.Get("X-Appfactory-Signature")) {
		t.Errorf("signature %q does not verify", h.Get("X-Appfactory-Signature"))
	}
	if webhooks.Verify("whsec_other", h.Get("X-Appfactory-Timestamp"), body, h.Get("X-Appfactory-Signature")) {
		t.Error("signature verifies with another secret")
	}
	if !strings.HasPrefix(h.Get("X-Appfactory-Signature"), "sha256=") || h.Get("X-Appfactory-Event") != store.EventSignUp {
		t.Errorf("headers %v", h)
	}
	ds := e.deliveries(t, w.ID)
	if len(ds) != 1 || h.Get("X-Appfactory-Delivery") != ds[0].ID {
		t.Fatalf("delivery header %q, deliveries %+v", h.Get("X-Appfactory-Delivery"), ds)
	}
	if ds[0].State != store.DeliveryDelivered || ds[0].Attempts != 1 || ds[0].LastStatus != 200 || ds[0].LastBody != "answer OK" {
		t.Errorf("delivery %+v", ds[0])
	}
	env := decode(t, body)
	var data store.UserEventData
	if err := json.Unmarshal(env.Data, &data); err != nil {
		t.Fatal(err)
	}
	if env.Event != store.EventSignUp || env.ID == "" || env.CreatedAt.IsZero() || data.User.Email != "pat@example.com" || data.User.Company != "Acme" {
		t.Errorf("body %s", body)
	}
}

func TestRetryAfterAServerError(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t, http.StatusInternalServerError)
	w, _ := e.hook(t, rcv.URL, store.EventTrialExpiring)
	if err := e.svc.Enqueue(context.Background(), store.EventTrialExpiring, map[string]string{"tenant": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.disp.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := e.deliveries(t, w.ID)[0]
	if d.State != store.DeliveryPending || d.Attempts != 1 || d.LastStatus != 500 || d.LastBody != "answer Internal Server Error" {
		t.Fatalf("after the 500: %+v", d)
	}
	e.drain(t)
	d = e.deliveries(t, w.ID)[0]
	if d.State != store.DeliveryDelivered || d.Attempts != 2 || d.LastStatus != 200 {
		t.Fatalf("after the retry: %+v", d)
	}
	if got := rcv.requests(); len(got) != 2 || string(got[0].Body) != string(got[1].Body) {
		t.Fatalf("requests %d, the retry must send the same body", len(got))
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t, 502, 503, 500, 500)
	w, _ := e.hook(t, rcv.URL, store.EventTrialExpired)
	if err := e.svc.Enqueue(context.Background(), store.EventTrialExpired, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	d := e.deliveries(t, w.ID)[0]
	if d.State != store.DeliveryFailed || d.Attempts != 3 || d.LastStatus != 500 {
		t.Fatalf("delivery %+v", d)
	}
	if n := len(rcv.requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

func TestRedeliverSendsTheSameEventAgain(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t)
	w, secret := e.hook(t, rcv.URL, store.EventTrialExpiring)
	if err := e.svc.Enqueue(context.Background(), store.EventTrialExpiring, map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	first := e.deliveries(t, w.ID)[0]
	again, err := e.svc.Redeliver(context.Background(), w.ID, first.ID, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if got[1].Header.Get("X-Appfactory-Delivery") != again.ID || decode(t, got[1].Body).ID != decode(t, got[0].Body).ID {
		t.Errorf("redelivery headers %v", got[1].Header)
	}
	if !webhooks.Verify(secret, got[1].Header.Get("X-Appfactory-Timestamp"), got[1].Body, got[1].Header.Get("X-Appfactory-Signature")) {
		t.Error("redelivery not signed")
	}
	ds := e.deliveries(t, w.ID)
	if len(ds) != 2 || ds[0].State != store.DeliveryDelivered || ds[1].State != store.DeliveryDelivered {
		t.Fatalf("deliveries %+v", ds)
	}
	other, _ := e.hook(t, rcv.URL, store.EventSignUp)
	if _, err := e.svc.Redeliver(context.Background(), other.ID, first.ID, e.admin); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("redeliver through another hook: %v", err)
	}
}

func TestRegistrationRefusesForbiddenAddresses(t *testing.T) {
	e := newEnv(t)
	strict := &webhooks.Service{DB: e.db, Guard: &webhooks.Guard{Tenants: []netip.Prefix{pool(t)}, Resolver: noDNS()}}
	for _, tc := range []struct{ name, url, why string }{
		{"loopback", "http://127.0.0.1:9/hook", "loopback"},
		{"loopback by name", "http://localhost:9/hook", "loopback"},
		{"loopback v6", "http://[::1]:9/hook", "loopback"},
		{"mapped loopback", "http://[::ffff:127.0.0.1]:9/hook", "loopback"},
		{"tenant network", "http://10.213.4.2/hook", "tenant networks"},
		{"link-local", "http://169.254.169.254/latest", "link-local"},
		{"unspecified", "http://0.0.0.0:9/", "unspecified"},
		{"multicast", "http://239.1.2.3/", "multicast"},
		{"scheme", "ftp://127.0.0.1/", "Only http and https"},
		{"credentials", "http://u:p@127.0.0.1/", "user names"},
		{"no host", "http:///x", "no host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := strict.Create(context.Background(), webhooks.Input{URL: tc.url, Events: []string{store.EventSignUp}, Enabled: true}, e.admin)
			if apperr.Code(err) != apperr.Invalid || !strings.Contains(apperr.Message(err), tc.why) {
				t.Fatalf("Create(%s) = %v, want invalid about %q", tc.url, err, tc.why)
			}
		})
	}
	if _, _, err := e.svc.Create(context.Background(), webhooks.Input{URL: "http://10.213.4.2/hook", Events: []string{store.EventSignUp}}, e.admin); err == nil {
		t.Error("loopback allowed lets the tenant networks through")
	}
	if ws, _ := e.db.ListWebhooks(context.Background()); len(ws) != 0 {
		t.Fatalf("refused hooks were written: %+v", ws)
	}
}

func TestDialRefusesForbiddenAddresses(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t)
	loop, _ := e.hook(t, rcv.URL, store.EventTrialExpiring)
	// A hook written past the registration check (as one whose name later
	// resolves elsewhere would be) is still refused when dialled.
	tenantNet := &store.Webhook{URL: "http://10.213.0.9:8080/hook", Secret: "s", Enabled: true, CreatedBy: e.admin.ID}
	tenantNet.SetEvents([]string{store.EventTrialExpiring})
	if err := e.db.CreateWebhook(context.Background(), tenantNet); err != nil {
		t.Fatal(err)
	}
	strict := &webhooks.Dispatcher{DB: e.db, Guard: &webhooks.Guard{Tenants: []netip.Prefix{pool(t)}}, MaxAttempts: 1}
	if err := e.svc.Enqueue(context.Background(), store.EventTrialExpiring, map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := strict.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	for hook, why := range map[string]string{loop.ID: "loopback", tenantNet.ID: "tenant networks"} {
		d := e.deliveries(t, hook)[0]
		if d.State != store.DeliveryFailed || d.LastStatus != 0 || !strings.Contains(d.LastError, "refused") || !strings.Contains(d.LastError, why) {
			t.Errorf("delivery %+v, want refused for %s", d, why)
		}
	}
}
