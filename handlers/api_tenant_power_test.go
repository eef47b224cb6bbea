package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// fakePower records the starts and stops asked for and, with db, writes
// the states they end in, as the reconciler does.
type fakePower struct {
	db    *store.DB
	mu    sync.Mutex
	calls []string
	done  chan string
	// hold makes Passivate wait for its context to end, like a slow stop.
	hold bool
}

func (f *fakePower) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
	if f.done != nil {
		f.done <- s
	}
}

func (f *fakePower) Activate(ctx context.Context, id string) error {
	f.record("activate:" + id)
	return f.settle(ctx, id, domain.DesiredRunning, domain.StateRunning)
}
func (f *fakePower) Pause(ctx context.Context, id string) error {
	f.record("pause:" + id)
	return f.settle(ctx, id, domain.DesiredRunning, domain.StatePaused)
}

// settle writes the states a change ends in, when the fake has a database.
func (f *fakePower) settle(ctx context.Context, id, desired, state string) error {
	if f.db == nil {
		return nil
	}
	if err := f.db.SetDesiredState(ctx, id, desired); err != nil {
		return err
	}
	return f.db.SetTenantState(ctx, id, state, "")
}

func (f *fakePower) Passivate(ctx context.Context, id, _ string) error {
	if f.hold {
		<-ctx.Done()
		f.record("cancelled:" + id)
		return ctx.Err()
	}
	f.record("passivate:" + id)
	return f.settle(ctx, id, domain.DesiredPassivated, domain.StatePassivated)
}

type fakeTrials struct{ db *store.DB }

func (f fakeTrials) Extend(ctx context.Context, id string, days int) (time.Time, error) {
	until, _, err := f.db.ExtendTenant(ctx, id, days)
	return until, err
}

type powerEnv struct {
	*handlerstest.Env
	power                         *fakePower
	handlers                      *handlers.Power
	stop                          func()
	owner, other, seller, admin   *handlerstest.Client
	otherSeller                   *handlerstest.Client
	tenantID, demoID, expiredID   string
	ownerTok, otherTok, sellerTok string
	adminTok, otherSellerTok      string
}

func newPowerEnv(t *testing.T) *powerEnv {
	t.Helper()
	pe := &powerEnv{power: &fakePower{done: make(chan string, 16)}}
	cat, err := catalog.Load("")
	if err != nil {
		t.Fatal(err)
	}
	pe.Env = handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Catalog = cat
	})
	bg, cancel := context.WithCancel(context.Background())
	p := &handlers.Power{H: pe.Handlers, Tenants: pe.power, Trials: fakeTrials{pe.DB}, Catalog: cat, Background: bg}
	pe.stop = func() { cancel(); p.Wait() }
	t.Cleanup(pe.stop)
	p.Register(pe.Web.Echo())
	pe.handlers = p
	pe.owner = pe.SignUp(t, "owner@example.com", store.RoleProspect)
	pe.other = pe.SignUp(t, "other@example.com", store.RoleProspect)
	pe.seller = pe.SignUp(t, "seller@example.com", store.RoleSales)
	pe.otherSeller = pe.SignUp(t, "seller2@example.com", store.RoleSales)
	pe.admin = pe.SignUp(t, "admin@example.com", store.RoleAdmin)
	pe.ownerTok, pe.otherTok = pe.Token(t, pe.owner.User.ID), pe.Token(t, pe.other.User.ID)
	pe.sellerTok, pe.otherSellerTok, pe.adminTok = pe.Token(t, pe.seller.User.ID), pe.Token(t, pe.otherSeller.User.ID), pe.Token(t, pe.admin.User.ID)
	future := time.Now().Add(48 * time.Hour)
	pe.tenantID = pe.insertTenant(t, "own1", pe.owner.User.ID, pe.owner.User.ID, "running", future)
	pe.demoID = pe.insertTenant(t, "demo1", pe.owner.User.ID, pe.seller.User.ID, "passivated", future)
	pe.expiredID = pe.insertTenant(t, "exp1", pe.owner.User.ID, pe.owner.User.ID, domain.StateExpired, time.Now().Add(-time.Hour))
	return pe
}

func (pe *powerEnv) insertTenant(t *testing.T, slug, owner, by, state string, expires time.Time) string {
	t.Helper()
	id := store.NewID()
	ctx := context.Background()
	if err := pe.DB.CreateApp(ctx, &store.App{ID: id, OwnerID: owner, Name: "App", Status: store.AppReady}); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{ID: id, AppID: id, OwnerID: owner, CreatedBy: by, Slug: slug,
		Platform: "contentapp", Version: "1", Environment: "trial", Replicas: 1,
		DesiredState: domain.DesiredRunning, State: state, ExpiresAt: store.TimeOf(expires)}
	if err := pe.DB.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return id
}

func (pe *powerEnv) api(t *testing.T, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, pe.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, handlerstest.Body(t, resp)
}

func TestAPITenantPowerAuthorization(t *testing.T) {
	pe := newPowerEnv(t)
	pe.power.db = pe.DB
	tests := []struct {
		name, path, token string
		status            int
	}{
		{"owner passivates", "/api/v1/tenants/" + pe.tenantID + "/passivate", pe.ownerTok, 200},
		{"stopped tenant not stopped again", "/api/v1/tenants/" + pe.tenantID + "/passivate", pe.ownerTok, 409},
		{"owner activates", "/api/v1/tenants/" + pe.tenantID + "/activate", pe.ownerTok, 200},
		{"running tenant not started again", "/api/v1/tenants/" + pe.tenantID + "/activate", pe.ownerTok, 409},
		{"owner pauses", "/api/v1/tenants/" + pe.tenantID + "/pause", pe.ownerTok, 200},
		{"admin passivates", "/api/v1/tenants/" + pe.tenantID + "/passivate", pe.adminTok, 200},
		{"another prospect pauses", "/api/v1/tenants/" + pe.tenantID + "/pause", pe.otherTok, 404},
		{"a seller pauses, not their demo", "/api/v1/tenants/" + pe.tenantID + "/pause", pe.sellerTok, 403},
		{"expired trial not paused", "/api/v1/tenants/" + pe.expiredID + "/pause", pe.ownerTok, 409},
		{"another prospect", "/api/v1/tenants/" + pe.tenantID + "/passivate", pe.otherTok, 404},
		{"a seller, not their demo", "/api/v1/tenants/" + pe.tenantID + "/activate", pe.sellerTok, 403},
		{"the seller of the demo", "/api/v1/tenants/" + pe.demoID + "/activate", pe.sellerTok, 200},
		{"the prospect of the demo", "/api/v1/tenants/" + pe.demoID + "/passivate", pe.ownerTok, 200},
		{"another seller's demo", "/api/v1/tenants/" + pe.demoID + "/activate", pe.otherSellerTok, 403},
		{"unknown tenant", "/api/v1/tenants/nope/activate", pe.adminTok, 404},
		{"expired trial not started", "/api/v1/tenants/" + pe.expiredID + "/activate", pe.ownerTok, 409},
		{"no token", "/api/v1/tenants/" + pe.tenantID + "/activate", "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(pe.power.calls)
			resp, body := pe.api(t, http.MethodPost, tc.path, tc.token, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			called := len(pe.power.calls) > before
			if called != (tc.status == 200) {
				t.Errorf("reconciler called: %v, with status %d", called, resp.StatusCode)
			}
			if tc.status == 409 && !strings.Contains(body, `"code":"conflict"`) {
				t.Errorf("refusal %s, want the conflict error", body)
			}
			if tc.status == 200 {
				var out handlers.PowerJSON
				if err := json.Unmarshal([]byte(body), &out); err != nil || out.ID == "" || out.State == "" {
					t.Errorf("answer %s (%v)", body, err)
				}
			}
		})
	}
}

func TestAPIExtendTrial(t *testing.T) {
	pe := newPowerEnv(t)
	path := "/api/v1/tenants/" + pe.expiredID + "/extend"
	for _, tc := range []struct {
		name, token, body string
		status            int
	}{
		{"owner may not", pe.ownerTok, `{"days":7}`, 403},
		{"other prospect finds nothing", pe.otherTok, `{"days":7}`, 404},
		{"zero days", pe.sellerTok, `{"days":0}`, 400},
		{"unknown field", pe.sellerTok, `{"days":7,"x":1}`, 400},
		{"sales extends", pe.sellerTok, `{"days":7}`, 200},
		{"admin extends", pe.adminTok, `{"days":3}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := pe.api(t, http.MethodPost, path, tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
		})
	}
	tn, err := pe.DB.TenantByID(context.Background(), pe.expiredID)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Now().Add(10 * 24 * time.Hour); tn.ExpiresAt.Sub(want).Abs() > time.Minute {
		t.Errorf("expires %s, want about %s (7 + 3 days from now)", tn.ExpiresAt.Time, want)
	}
}

func TestAPIAdminEnvironmentPause(t *testing.T) {
	pe := newPowerEnv(t)
	resp, body := pe.api(t, http.MethodPut, "/api/v1/admin/environments/trial", pe.sellerTok, `{"pause_enabled":false}`)
	if resp.StatusCode != 403 {
		t.Fatalf("sales: %d %s", resp.StatusCode, body)
	}
	resp, body = pe.api(t, http.MethodPut, "/api/v1/admin/environments/nope", pe.adminTok, `{"pause_enabled":false}`)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown environment: %d %s", resp.StatusCode, body)
	}
	resp, body = pe.api(t, http.MethodPut, "/api/v1/admin/environments/trial", pe.adminTok, `{}`)
	if resp.StatusCode != 400 {
		t.Fatalf("no setting: %d %s", resp.StatusCode, body)
	}
	resp, body = pe.api(t, http.MethodPut, "/api/v1/admin/environments/trial", pe.adminTok, `{"pause_enabled":false}`)
	var env handlers.EnvironmentJSON
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &env) != nil || env.ID != "trial" || env.PauseEnabled {
		t.Fatalf("turn off: %d %s", resp.StatusCode, body)
	}
	settings, _ := pe.DB.EnvSettings(context.Background())
	if s, ok := settings["trial"]; !ok || s.PauseEnabled {
		t.Fatalf("stored %+v", settings)
	}
	resp, body = pe.api(t, http.MethodGet, "/api/v1/admin/environments", pe.adminTok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"environments":[`) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
}

func TestPortalPowerForms(t *testing.T) {
	pe := newPowerEnv(t)
	resp := pe.owner.PostForm(t, "/tenants/"+pe.tenantID+"/passivate", url.Values{})
	handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tenants/"+pe.tenantID {
		t.Fatalf("passivate form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	select {
	case got := <-pe.power.done:
		if got != "passivate:"+pe.tenantID {
			t.Fatalf("called %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stop asked for from the portal never ran")
	}
	resp = pe.other.PostForm(t, "/tenants/"+pe.tenantID+"/activate", url.Values{})
	handlerstest.Body(t, resp)
	if resp.StatusCode != 404 {
		t.Fatalf("another prospect's activate form: %d", resp.StatusCode)
	}
	resp = pe.admin.Get(t, "/admin/environments")
	page := handlerstest.Body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, "Pause tier") || !strings.Contains(page, `action="/admin/environments/trial"`) {
		t.Fatalf("environments page: %d\n%s", resp.StatusCode, page)
	}
	resp = pe.admin.PostForm(t, "/admin/environments/trial", url.Values{"pause_enabled": {"false"}})
	handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("environment form: %d", resp.StatusCode)
	}
	resp = pe.seller.Get(t, "/admin/environments")
	handlerstest.Body(t, resp)
	if resp.StatusCode != 403 {
		t.Fatalf("sales on the environments page: %d", resp.StatusCode)
	}
}

// TestPowerStopEndsBackgroundWork: a stop asked for from the portal goes on
// after its request, but shutdown cancels it and waits for it to end, so
// that nothing uses the database after it closes.
func TestPowerStopEndsBackgroundWork(t *testing.T) {
	pe := newPowerEnv(t)
	pe.power.hold = true
	resp := pe.owner.PostForm(t, "/tenants/"+pe.tenantID+"/passivate", url.Values{})
	handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("passivate form: %d", resp.StatusCode)
	}
	stopped := make(chan struct{})
	go func() { pe.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the background stop")
	}
	select {
	case got := <-pe.power.done:
		if got != "cancelled:"+pe.tenantID {
			t.Fatalf("called %s", got)
		}
	default:
		t.Fatal("Stop returned before the background stop ended")
	}
}
