package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

func TestAdminBackupSchedule(t *testing.T) {
	pe := newPowerEnv(t)
	ctx := context.Background()
	resp, body := pe.api(t, http.MethodPut, "/api/v1/admin/environments/trial", pe.sellerTok, `{"backup_every_hours":24}`)
	if resp.StatusCode != 403 {
		t.Fatalf("sales: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{`{"backup_every_hours":-1}`, `{"backup_keep":0}`, `{"backup_every_hours":9000}`} {
		if resp, body := pe.api(t, http.MethodPut, "/api/v1/admin/environments/trial", pe.adminTok, bad); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
	if s, _ := pe.DB.BackupSchedules(ctx); s["trial"].EveryHours != 0 {
		t.Fatalf("a refused schedule was stored: %+v", s)
	}
	resp, body = pe.api(t, http.MethodPut, "/api/v1/admin/environments/trial", pe.adminTok, `{"backup_every_hours":24,"backup_keep":3}`)
	var env handlers.EnvironmentJSON
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &env) != nil || env.BackupEveryHours != 24 || env.BackupKeep != 3 || !env.PauseEnabled {
		t.Fatalf("set schedule: %d %s", resp.StatusCode, body)
	}

	page := handlerstest.Body(t, pe.admin.Get(t, "/admin/environments"))
	if !strings.Contains(page, `action="/admin/environments/trial/backups"`) || !strings.Contains(page, `name="backup_every_hours"`) {
		t.Fatalf("environments page lacks the schedule form:\n%s", page)
	}
	resp = pe.admin.PostForm(t, "/admin/environments/demo/backups", url.Values{"backup_every_hours": {"12"}, "backup_keep": {"5"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule form: %d", resp.StatusCode)
	}
	if s, _ := pe.DB.BackupSchedules(ctx); s["demo"] != (store.BackupSchedule{Environment: "demo", EveryHours: 12, Keep: 5}) {
		t.Errorf("stored %+v", s["demo"])
	}
	resp = pe.owner.PostForm(t, "/admin/environments/demo/backups", url.Values{"backup_every_hours": {"1"}, "backup_keep": {"1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a prospect's schedule form: %d, want 403", resp.StatusCode)
	}
}
