package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

func TestAPITenantSleepPolicy(t *testing.T) {
	pe := newPowerEnv(t)
	path := "/api/v1/tenants/" + pe.tenantID + "/policy"
	for _, tc := range []struct {
		name, token, body string
		status            int
		field             string
	}{
		{"the owner may not", pe.ownerTok, `{"idle_timeout":"2h"}`, 403, ""},
		{"another prospect finds nothing", pe.otherTok, `{"idle_timeout":"2h"}`, 404, ""},
		{"a bad duration", pe.adminTok, `{"idle_timeout":"soon"}`, 422, "idle_timeout"},
		{"too short", pe.adminTok, `{"idle_timeout":"10s"}`, 422, "idle_timeout"},
		{"a bad pause", pe.adminTok, `{"pause":"sometimes"}`, 422, "pause"},
		{"a bad window", pe.sellerTok, `{"keep_warm":"mon-fri 09:00-18:00 Mars/Olympus"}`, 422, "keep_warm"},
		{"unknown field", pe.adminTok, `{"idle":"2h"}`, 400, ""},
		{"sales sets it", pe.sellerTok, `{"idle_timeout":"90","pause":"off","keep_warm":"weekdays 09:00-18:00 Europe/Paris"}`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := pe.api(t, http.MethodPut, path, tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.field != "" && !strings.Contains(body, `"field":"`+tc.field+`"`) {
				t.Errorf("error names no field %s: %s", tc.field, body)
			}
			if tc.status != 200 {
				if p, _ := pe.DB.TenantPolicy(context.Background(), pe.tenantID); !p.IsDefault() {
					t.Errorf("a refused policy was stored: %+v", p)
				}
			}
		})
	}
	resp, body := pe.api(t, http.MethodGet, "/api/v1/tenants/"+pe.tenantID, pe.ownerTok, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET tenant: %d %s", resp.StatusCode, body)
	}
	var tn handlers.TenantJSON
	if err := json.Unmarshal([]byte(body), &tn); err != nil {
		t.Fatal(err)
	}
	want := handlers.PolicyInput{IdleTimeout: "1h30m", Pause: "off", KeepWarm: "mon-fri 09:00-18:00 Europe/Paris"}
	if tn.Policy == nil || tn.Policy.Own != want {
		t.Fatalf("tenant object's policy %+v, want own %+v", tn.Policy, want)
	}
	if tn.Wake == nil || tn.Wake.ColdStarts7d == nil {
		t.Fatalf("tenant object's wake facts: %s", body)
	}
	// Back to the environment's defaults.
	if resp, body := pe.api(t, http.MethodPut, path, pe.adminTok, `{}`); resp.StatusCode != 200 {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	if p, _ := pe.DB.TenantPolicy(context.Background(), pe.tenantID); !p.IsDefault() {
		t.Errorf("policy after reset: %+v", p)
	}
}

func TestTenantPageWhyAwakeAndPolicyForm(t *testing.T) {
	pe := newPowerEnv(t)
	ctx := context.Background()
	now := time.Now()
	for i, secs := range []float64{0.41, 0.38} {
		if err := pe.DB.RecordActivation(ctx, pe.tenantID, now.Add(time.Duration(i-2)*time.Hour), time.Duration(secs*float64(time.Second)), "a browser: GET /docs (Mozilla/5.0)"); err != nil {
			t.Fatal(err)
		}
	}
	if err := pe.DB.RecordActivity(ctx, []store.TenantActivity{{TenantID: pe.tenantID, LastActive: now, LastRequest: "a client: GET /api/items (curl/8.5)", Day: now.UTC().Format(time.DateOnly), Requests: 1}}); err != nil {
		t.Fatal(err)
	}
	page := handlerstest.Body(t, pe.owner.Get(t, "/tenants/"+pe.tenantID))
	for _, want := range []string{`id="why-awake"`, "a client: GET /api/items (curl/8.5)", "a browser: GET /docs (Mozilla/5.0)", "2 cold start(s) in the last 7 days", "<svg"} {
		if !strings.Contains(page, want) {
			t.Errorf("owner's tenant page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="policy-form"`) {
		t.Error("the owner is shown the policy form")
	}
	resp := pe.owner.PostForm(t, "/tenants/"+pe.tenantID+"/policy", url.Values{"idle_timeout": {"2h"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("owner posts a policy: %d", resp.StatusCode)
	}
	resp.Body.Close()

	admin := handlerstest.Body(t, pe.admin.Get(t, "/tenants/"+pe.tenantID))
	if !strings.Contains(admin, `id="policy-form"`) {
		t.Fatal("an admin's tenant page has no policy form")
	}
	resp = pe.admin.PostForm(t, "/tenants/"+pe.tenantID+"/policy", url.Values{"idle_timeout": {"2h"}, "keep_warm": {"someday 09:00-10:00"}})
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "unknown day") || !strings.Contains(body, `value="2h"`) {
		t.Errorf("invalid policy form: %d, want 422 with the error and the typed values", resp.StatusCode)
	}
	if p, _ := pe.DB.TenantPolicy(ctx, pe.tenantID); !p.IsDefault() {
		t.Errorf("an invalid form stored %+v", p)
	}
	resp = pe.admin.PostForm(t, "/tenants/"+pe.tenantID+"/policy", url.Values{"idle_timeout": {"2h"}, "pause": {"on"}, "keep_warm": {"sat,sun 10:00-12:00"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("valid policy form: %d", resp.StatusCode)
	}
	p, _ := pe.DB.TenantPolicy(ctx, pe.tenantID)
	if p.Idle == nil || *p.Idle != 2*time.Hour || p.Pause != store.PauseOn || p.KeepWarm != "sat,sun 10:00-12:00" || p.UpdatedBy != "admin@example.com" {
		t.Errorf("stored policy %+v", p)
	}
}
