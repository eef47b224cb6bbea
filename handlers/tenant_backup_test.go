package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
)

func TestTenantPageBackupsPanel(t *testing.T) {
	be := newBackupEnv(t)
	page := handlerstest.Body(t, be.owner.Get(t, "/tenants/"+be.tenantID))
	for _, want := range []string{`id="tenant-backups"`, "Back up now", "No backups yet.", `name="` + handlers.CSRFField + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("tenant page lacks %q", want)
		}
	}

	// Back up now, as htmx sends it: the panel comes back with the backup.
	form := url.Values{handlers.CSRFField: {be.owner.CSRF()}}
	req, _ := http.NewRequest(http.MethodPost, be.URL+"/tenants/"+be.tenantID+"/backups", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp := be.owner.Do(t, req)
	body := handlerstest.Body(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<section id="tenant-backups"`) || !strings.Contains(body, "taken (") || !strings.Contains(body, "manual") {
		t.Fatalf("htmx back up now: %d %s", resp.StatusCode, body)
	}
	bks, _ := be.DB.ListBackups(context.Background(), be.tenantID)
	if len(bks) != 1 {
		t.Fatalf("%d backups, want 1", len(bks))
	}
	id := bks[0].ID
	for _, want := range []string{"/backups/" + id + "/download", "/backups/" + id + "/delete", `name="backup_id" value="` + id + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("panel lacks %q", want)
		}
	}

	// Without the CSRF token nothing is taken.
	resp = be.owner.PostForm(t, "/tenants/"+be.tenantID+"/backups", url.Values{handlers.CSRFField: {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("back up with a forged token: %d, want 403", resp.StatusCode)
	}
	resp.Body.Close()

	// Restore from the panel's form: the page again, the restore pending and shown.
	resp = be.owner.PostForm(t, "/tenants/"+be.tenantID+"/restore", url.Values{"backup_id": {id}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore form: %d", resp.StatusCode)
	}
	panel := handlerstest.Body(t, be.owner.Get(t, "/tenants/"+be.tenantID+"/backups"))
	if !strings.Contains(panel, "Restoring backup "+id) || !strings.Contains(panel, `hx-trigger="every 2s"`) {
		t.Errorf("panel while the restore waits: %s", panel)
	}

	// Download through the session, by the owner.
	resp = be.owner.Get(t, "/backups/"+id+"/download")
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Errorf("owner's download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Another prospect sees none of it.
	for _, path := range []string{"/tenants/" + be.tenantID + "/backups", "/backups/" + id + "/download"} {
		resp := be.other.Get(t, path)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("another prospect's GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/tenants/" + be.tenantID + "/backups", "/backups/" + id + "/delete", "/backups/" + id + "/restore-new", "/tenants/" + be.tenantID + "/rollback"} {
		resp := be.other.PostForm(t, path, url.Values{"backup_id": {id}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("another prospect's POST %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if bks, _ := be.DB.ListBackups(context.Background(), be.tenantID); len(bks) != 1 {
		t.Errorf("%d backups after the refusals, want 1", len(bks))
	}
}

func TestRestoreNewFormDeploysACopy(t *testing.T) {
	be := newBackupEnv(t)
	id := be.backup(t)["id"].(string)
	resp := be.owner.PostForm(t, "/backups/"+id+"/restore-new", url.Values{"name": {"Shop again"}})
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/tenants/") || loc == "/tenants/"+be.tenantID {
		t.Fatalf("restore-new form: %d %s", resp.StatusCode, loc)
	}
	nt, err := be.DB.TenantByID(context.Background(), strings.TrimPrefix(loc, "/tenants/"))
	if err != nil || nt.Title != "Shop again" || nt.OwnerID != be.owner.User.ID || nt.Slug != "shop-again" {
		t.Fatalf("new tenant %+v (%v)", nt, err)
	}
	if pr, _ := be.DB.PendingRestoreOf(context.Background(), nt.ID); pr == nil || pr.BackupID != id {
		t.Errorf("the new tenant waits for %+v, want backup %s", pr, id)
	}
	long := strings.Repeat("x", 101)
	resp = be.owner.PostForm(t, "/backups/"+id+"/restore-new", url.Values{"name": {long}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a name too long: %d, want a refusal", resp.StatusCode)
	}
}
