package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/orchestrator/budget"
	"appfactory/store"
)

// fixedBudget is a memory budget with a state of the test's choosing.
type fixedBudget struct{ st budget.State }

func (f fixedBudget) Snapshot() budget.State { return f.st }

func TestAdminBudgetAPIAndDashboard(t *testing.T) {
	st := budget.State{Bytes: 1 << 30, Used: 768 << 20,
		Members: []budget.MemberState{
			{TenantID: "t-old", Slug: "old-<b>", State: "running", Bytes: 512 << 20, IdleSecs: 90},
			{TenantID: "t-new", Slug: "new-one", State: "starting", Bytes: 256 << 20},
		},
		Queue:  []budget.QueueEntry{{TenantID: "t-wait", Slug: "waiting-one", Bytes: 512 << 20, Since: time.Now().Add(-3 * time.Second), Callers: 2}},
		Counts: budget.Counts{Admitted: 3, Queued: 1, Evicted: 1}}
	e := handlerstest.NewServer(t, func(h *handlers.Handlers) { h.Monitoring.Budget = fixedBudget{st} })
	adminTok := e.Token(t, e.CreateUser(t, "admin@example.com", store.RoleAdmin).ID)
	salesTok := e.Token(t, e.CreateUser(t, "sales@example.com", store.RoleSales).ID)
	prospectTok := e.Token(t, e.CreateUser(t, "pam@example.com", store.RoleProspect).ID)
	call := func(t *testing.T, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/admin/budget", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		name, tok string
		status    int
	}{{"admin", adminTok, 200}, {"sales", salesTok, 403}, {"prospect", prospectTok, 403}, {"no token", "", 401}} {
		t.Run(c.name, func(t *testing.T) {
			if status, body := call(t, c.tok); status != c.status {
				t.Fatalf("GET /api/v1/admin/budget as %s = %d, want %d: %s", c.name, status, c.status, body)
			}
		})
	}
	_, body := call(t, adminTok)
	var got handlers.BudgetJSON
	if err := json.Unmarshal([]byte(body), &got); err != nil || !got.Enabled || got.Bytes != 1<<30 || got.Used != 768<<20 ||
		len(got.Members) != 2 || got.Members[0].IdleSecs != 90 || len(got.Queue) != 1 || got.Queue[0].Callers != 2 {
		t.Fatalf("budget JSON %s (%v)", body, err)
	}

	admin := e.Visitor(t)
	admin.Login(t, "admin@example.com", handlerstest.Password)
	page := handlerstest.Body(t, admin.Get(t, "/admin"))
	for _, want := range []string{"Memory budget", "768 MiB", "in use of a budget of 1 GiB", "old-&lt;b&gt;", "waiting-one", "Starts waiting for memory", "1m30s"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(page, "old-<b>") {
		t.Error("a slug is not escaped on the dashboard")
	}
}

func TestAdminBudgetOff(t *testing.T) {
	e := handlerstest.NewServer(t)
	tok := e.Token(t, e.CreateUser(t, "admin@example.com", store.RoleAdmin).ID)
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/admin/budget", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got handlers.BudgetJSON
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || got.Enabled || got.Members == nil || got.Queue == nil {
		t.Fatalf("budget off: %d %+v (%v)", resp.StatusCode, got, err)
	}
	admin := e.Visitor(t)
	admin.Login(t, "admin@example.com", handlerstest.Password)
	if page := handlerstest.Body(t, admin.Get(t, "/admin")); strings.Contains(page, "Memory budget") {
		t.Error("the dashboard shows a budget that is off")
	}
}
