package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"testing"

	"appfactory/domain"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// backupEnv is a portal with an owner's deployed tenant, another
// prospect, a seller and an admin, each with an API token.
type backupEnv struct {
	*handlerstest.Env
	owner, other, seller                  *handlerstest.Client
	ownerTok, otherTok, sellerTok, admTok string
	tenantID                              string
}

func newBackupEnv(t *testing.T) *backupEnv {
	t.Helper()
	be := &backupEnv{Env: handlerstest.NewServer(t)}
	be.owner = be.SignUp(t, "owner@example.com", store.RoleProspect)
	be.other = be.SignUp(t, "other@example.com", store.RoleProspect)
	be.seller = be.SignUp(t, "seller@example.com", store.RoleSales)
	admin := be.CreateUser(t, "admin@example.com", store.RoleAdmin)
	be.ownerTok, be.otherTok = be.Token(t, be.owner.User.ID), be.Token(t, be.other.User.ID)
	be.sellerTok, be.admTok = be.Token(t, be.seller.User.ID), be.Token(t, admin.ID)
	be.tenantID = be.deployed(t, "shop", "contentapp")
	be.Snapshots.SetContent("the documents")
	return be
}

// deployed inserts a finished app of the owner and a running tenant of it.
func (be *backupEnv) deployed(t *testing.T, slug, platform string) string {
	t.Helper()
	ctx := context.Background()
	a := &store.App{OwnerID: be.owner.User.ID, Name: "Shop " + slug, Status: store.AppReady, Platform: platform, Version: "1.0", Environment: "trial", Replicas: 1}
	a.SetComponents([]string{})
	if err := be.DB.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{AppID: a.ID, OwnerID: be.owner.User.ID, CreatedBy: be.owner.User.ID, Slug: slug, Title: "Shop",
		Platform: platform, Version: "1.0", Environment: "trial", Replicas: 1, Image: "appfactory/tenant-" + platform + ":abc",
		DesiredState: domain.DesiredRunning, State: domain.StateRunning}
	if err := be.DB.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func (be *backupEnv) api(t *testing.T, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	pe := &powerEnv{Env: be.Env}
	return pe.api(t, method, path, token, body)
}

// backup takes a backup through the API as the owner.
func (be *backupEnv) backup(t *testing.T) map[string]any {
	t.Helper()
	resp, body := be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/backups", be.ownerTok, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create backup: %d %s", resp.StatusCode, body)
	}
	var b map[string]any
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAPIBackupsContract(t *testing.T) {
	be := newBackupEnv(t)
	first := be.backup(t)
	for _, k := range []string{"id", "tenant_id", "platform", "version", "kind", "size", "sha256", "created_at"} {
		if _, ok := first[k]; !ok {
			t.Errorf("backup object lacks %q: %v", k, first)
		}
	}
	if first["kind"] != "manual" || first["tenant_id"] != be.tenantID || first["platform"] != "contentapp" || first["version"] != "1.0" {
		t.Errorf("backup object %v", first)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(first["sha256"].(string)) || first["size"].(float64) <= 0 {
		t.Errorf("checksum %v size %v", first["sha256"], first["size"])
	}
	be.Snapshots.SetContent("more documents")
	second := be.backup(t)
	id1, id2 := first["id"].(string), second["id"].(string)

	resp, body := be.api(t, http.MethodGet, "/api/v1/tenants/"+be.tenantID+"/backups", be.ownerTok, "")
	var list struct{ Backups []map[string]any }
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != 200 || err != nil || len(list.Backups) != 2 || list.Backups[0]["id"] != id2 {
		t.Fatalf("list: %d %s (want both, newest first)", resp.StatusCode, body)
	}
	if resp, body := be.api(t, http.MethodGet, "/api/v1/backups/"+id1, be.ownerTok, ""); resp.StatusCode != 200 || !jsonHas(body, "id", id1) {
		t.Errorf("get: %d %s", resp.StatusCode, body)
	}

	req, _ := http.NewRequest(http.MethodGet, be.URL+"/api/v1/backups/"+id1+"/download", nil)
	req.Header.Set("Authorization", "Bearer "+be.ownerTok)
	dl, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	sum := sha256.Sum256(data)
	if dl.StatusCode != 200 || dl.Header.Get("Content-Type") != "application/gzip" || hex.EncodeToString(sum[:]) != first["sha256"] {
		t.Errorf("download: %d %s, sha256 %x want %v", dl.StatusCode, dl.Header.Get("Content-Type"), sum, first["sha256"])
	}

	resp, body = be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/restore", be.ownerTok, `{"backup_id":"`+id1+`"}`)
	if resp.StatusCode != http.StatusAccepted || !jsonTenant(t, body, be.tenantID) {
		t.Errorf("restore: %d %s", resp.StatusCode, body)
	}
	if pr, _ := be.DB.PendingRestoreOf(context.Background(), be.tenantID); pr == nil || pr.BackupID != id1 {
		t.Errorf("pending restore %+v, want backup %s", pr, id1)
	}

	resp, body = be.api(t, http.MethodPost, "/api/v1/backups/"+id2+"/restore-new", be.ownerTok, `{"name":"Shop copy"}`)
	var created struct{ Tenant map[string]any }
	if err := json.Unmarshal([]byte(body), &created); resp.StatusCode != http.StatusCreated || err != nil || created.Tenant["title"] != "Shop copy" || created.Tenant["owner_id"] != be.owner.User.ID {
		t.Fatalf("restore-new: %d %s", resp.StatusCode, body)
	}
	if pr, _ := be.DB.PendingRestoreOf(context.Background(), created.Tenant["id"].(string)); pr == nil || pr.BackupID != id2 {
		t.Errorf("the new tenant waits for %+v, want backup %s", pr, id2)
	}

	// The backup a restore waits for stays; another goes with its archive.
	if resp, body := be.api(t, http.MethodDelete, "/api/v1/backups/"+id1, be.ownerTok, ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete of the backup being restored: %d %s, want 409", resp.StatusCode, body)
	}
	bk2, _ := be.DB.BackupByID(context.Background(), id2)
	path, _ := be.Backups.Path(bk2)
	if err := be.DB.FinishRestore(context.Background(), created.Tenant["id"].(string), id2, "done"); err != nil {
		t.Fatal(err)
	}
	if resp, body := be.api(t, http.MethodDelete, "/api/v1/backups/"+id2, be.ownerTok, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", resp.StatusCode, body)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("archive of the deleted backup: %v, want gone", err)
	}
	if resp, _ := be.api(t, http.MethodGet, "/api/v1/backups/"+id2, be.ownerTok, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("get after delete: %d, want 404", resp.StatusCode)
	}
}

func jsonHas(body, key, want string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(body), &m) == nil && m[key] == want
}

func jsonTenant(t *testing.T, body, id string) bool {
	t.Helper()
	var m struct{ Tenant map[string]any }
	return json.Unmarshal([]byte(body), &m) == nil && m.Tenant["id"] == id
}

func TestAPIBackupsAuthorization(t *testing.T) {
	be := newBackupEnv(t)
	id := be.backup(t)["id"].(string)
	tid := be.tenantID
	tests := []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"another prospect lists", "GET", "/api/v1/tenants/" + tid + "/backups", be.otherTok, "", 404},
		{"another prospect gets", "GET", "/api/v1/backups/" + id, be.otherTok, "", 404},
		{"another prospect downloads", "GET", "/api/v1/backups/" + id + "/download", be.otherTok, "", 404},
		{"another prospect backs up", "POST", "/api/v1/tenants/" + tid + "/backups", be.otherTok, "", 404},
		{"another prospect deletes", "DELETE", "/api/v1/backups/" + id, be.otherTok, "", 404},
		{"another prospect restores", "POST", "/api/v1/tenants/" + tid + "/restore", be.otherTok, `{"backup_id":"` + id + `"}`, 404},
		{"another prospect restores as new", "POST", "/api/v1/backups/" + id + "/restore-new", be.otherTok, "", 404},
		{"another prospect rolls back", "POST", "/api/v1/tenants/" + tid + "/rollback", be.otherTok, "", 404},
		{"a seller downloads", "GET", "/api/v1/backups/" + id + "/download", be.sellerTok, "", 200},
		{"a seller backs up another's tenant", "POST", "/api/v1/tenants/" + tid + "/backups", be.sellerTok, "", 403},
		{"an admin downloads", "GET", "/api/v1/backups/" + id + "/download", be.admTok, "", 200},
		{"no token", "GET", "/api/v1/tenants/" + tid + "/backups", "", "", 401},
		{"unknown backup", "GET", "/api/v1/backups/nope", be.ownerTok, "", 404},
		{"restore without a backup", "POST", "/api/v1/tenants/" + tid + "/restore", be.ownerTok, `{}`, 400},
		{"restore of an unknown backup", "POST", "/api/v1/tenants/" + tid + "/restore", be.ownerTok, `{"backup_id":"nope"}`, 404},
		{"rollback without an upgrade", "POST", "/api/v1/tenants/" + tid + "/rollback", be.ownerTok, "", 409},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := be.api(t, tc.method, tc.path, tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.status)
			}
			if tc.status >= 400 && tc.status != 401 {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body %s", body)
				}
			}
		})
	}
	if pr, _ := be.DB.PendingRestoreOf(context.Background(), tid); pr != nil {
		t.Errorf("a refused request left a restore pending: %+v", pr)
	}
	if bks, _ := be.DB.ListBackups(context.Background(), tid); len(bks) != 1 {
		t.Errorf("%d backups after the refusals, want 1", len(bks))
	}
}

func TestAPIRestoreRefusesDamagedAndForeignBackups(t *testing.T) {
	be := newBackupEnv(t)
	ctx := context.Background()
	otherID := be.deployed(t, "blog", "wordpress")
	// A backup of another platform, as a row of the owner's other tenant.
	foreign := &store.Backup{TenantID: otherID, Platform: "wordpress", Version: "1.0", Kind: store.BackupManual, Size: 1, SHA256: "00"}
	id := be.backup(t)["id"].(string)
	bk, _ := be.DB.BackupByID(ctx, id)
	foreign.SHA256 = bk.SHA256
	if err := be.DB.CreateBackup(ctx, foreign, "planted"); err != nil {
		t.Fatal(err)
	}
	resp, body := be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/restore", be.ownerTok, `{"backup_id":"`+foreign.ID+`"}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("restore of another platform's backup: %d %s, want 422", resp.StatusCode, body)
	}
	path, _ := be.Backups.Path(bk)
	if err := os.WriteFile(path, []byte("damaged"), 0o640); err != nil {
		t.Fatal(err)
	}
	resp, body = be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/restore", be.ownerTok, `{"backup_id":"`+id+`"}`)
	if resp.StatusCode != http.StatusUnprocessableEntity || !regexp.MustCompile(`checksum`).MatchString(body) {
		t.Errorf("restore of a damaged archive: %d %s, want 422 naming the checksum", resp.StatusCode, body)
	}
	if pr, _ := be.DB.PendingRestoreOf(ctx, be.tenantID); pr != nil {
		t.Errorf("a refused restore is pending: %+v", pr)
	}
}

func TestAPIUpgradeTakesABackupAndRollsBack(t *testing.T) {
	be := newBackupEnv(t)
	ctx := context.Background()
	resp, body := be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/upgrade", be.ownerTok, `{"version":"2.0"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upgrade: %d %s", resp.StatusCode, body)
	}
	bks, _ := be.DB.ListBackups(ctx, be.tenantID)
	if len(bks) != 1 || bks[0].Kind != store.BackupPreUpgrade || bks[0].Version != "1.0" {
		t.Fatalf("backups after the upgrade: %+v, want one pre-upgrade backup of 1.0", bks)
	}
	if resp, body := be.api(t, http.MethodDelete, "/api/v1/backups/"+bks[0].ID, be.ownerTok, ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete of the rollback's backup: %d %s, want 409", resp.StatusCode, body)
	}
	resp, body = be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/rollback", be.ownerTok, "")
	var got struct{ Tenant map[string]any }
	if err := json.Unmarshal([]byte(body), &got); resp.StatusCode != http.StatusAccepted || err != nil || got.Tenant["version"] != "1.0" {
		t.Fatalf("rollback: %d %s, want 202 on version 1.0", resp.StatusCode, body)
	}
	if pr, _ := be.DB.PendingRestoreOf(ctx, be.tenantID); pr == nil || pr.BackupID != bks[0].ID {
		t.Errorf("pending restore %+v, want the pre-upgrade backup", pr)
	}
	if resp, _ := be.api(t, http.MethodPost, "/api/v1/tenants/"+be.tenantID+"/rollback", be.ownerTok, ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("second rollback: %d, want 409", resp.StatusCode)
	}
}
