package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// contractServer speaks the backup, restore and rollback contract of the
// API (the OpenAPI document's) for one tenant, t1, and records what it was
// asked.
type contractServer struct {
	mu      sync.Mutex
	backups []map[string]any // newest first
	asked   []string
}

func (s *contractServer) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	tenant := func(state string) map[string]any {
		return map[string]any{"tenant": map[string]any{"id": "t1", "slug": "acme", "state": state, "desired_state": "running", "actions": []string{"passivate"}}}
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /api/v1/tenants/t1/backups", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := len(s.backups) + 1
		b := map[string]any{"id": fmt.Sprintf("b%d", n), "tenant_id": "t1", "platform": "contentapp", "version": "1.0",
			"kind": "manual", "size": 1000 * n, "sha256": strings.Repeat(fmt.Sprint(n), 64), "created_at": fmt.Sprintf("2026-12-0%dT10:00:00Z", n)}
		s.backups = append([]map[string]any{b}, s.backups...)
		reply(w, http.StatusCreated, b)
	})
	mux.HandleFunc("GET /api/v1/tenants/t1/backups", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		reply(w, http.StatusOK, map[string]any{"backups": s.backups})
	})
	mux.HandleFunc("POST /api/v1/tenants/t1/restore", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			BackupID string `json:"backup_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.BackupID == "" {
			reply(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid", "message": "Give backup_id."}})
			return
		}
		s.mu.Lock()
		s.asked = append(s.asked, "restore "+body.BackupID)
		s.mu.Unlock()
		reply(w, http.StatusAccepted, tenant("deploying"))
	})
	mux.HandleFunc("POST /api/v1/tenants/t1/rollback", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.asked = append(s.asked, "rollback")
		s.mu.Unlock()
		reply(w, http.StatusAccepted, tenant("deploying"))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			reply(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "unauthorized", "message": "The API token is not valid."}})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *contractServer) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.asked) == 0 {
		return ""
	}
	return s.asked[len(s.asked)-1]
}

func TestBackupRestoreRollback(t *testing.T) {
	cs := &contractServer{}
	srv := httptest.NewServer(cs.handler(t))
	defer srv.Close()
	configHome(t)
	// APPFACTORY_URL and APPFACTORY_TOKEN stand in for a login.
	t.Setenv("APPFACTORY_URL", srv.URL)
	t.Setenv("APPFACTORY_TOKEN", "secret")

	if _, err := run(t, "tenants", "restore", "t1", "--latest"); err == nil || !strings.Contains(err.Error(), "has no backup") {
		t.Errorf("restore --latest without a backup: %v", err)
	}
	out := mustRun(t, "tenants", "backup", "t1")
	if !strings.Contains(out, "b1") || !strings.Contains(out, "1000") || !strings.Contains(out, strings.Repeat("1", 64)) {
		t.Errorf("tenants backup printed:\n%s", out)
	}
	mustRun(t, "tenants", "backup", "t1")
	if out := mustRun(t, "tenants", "backups", "t1"); strings.Index(out, "b2") > strings.Index(out, "b1") {
		t.Errorf("tenants backups, newest first:\n%s", out)
	}
	if out := mustRun(t, "tenants", "restore", "t1", "--latest"); !strings.Contains(out, "deploying") || cs.last() != "restore b2" {
		t.Errorf("restore --latest: asked %q, printed\n%s", cs.last(), out)
	}
	mustRun(t, "tenants", "restore", "t1", "b1")
	if cs.last() != "restore b1" {
		t.Errorf("restore b1: asked %q", cs.last())
	}
	if _, err := run(t, "tenants", "restore", "t1"); !isUsage(err) {
		t.Errorf("restore without a backup or --latest: %v", err)
	}
	if out := mustRun(t, "tenants", "rollback", "t1", "-o", "json"); !strings.Contains(out, `"tenant"`) || cs.last() != "rollback" {
		t.Errorf("rollback: asked %q, printed\n%s", cs.last(), out)
	}
	t.Setenv("APPFACTORY_TOKEN", "wrong")
	if _, err := run(t, "tenants", "backup", "t1"); err == nil || !strings.Contains(err.Error(), "not valid") || isUsage(err) {
		t.Errorf("a refused token: %v", err)
	}
}
