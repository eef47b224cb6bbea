package orchestrator

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/domain"
	"appfactory/store"
)

// withBackups gives the env backups under its data directory and a
// reconciler that restores from them, ready-timeout bounding readiness.
func (e *factoryEnv) withBackups(t *testing.T, readyTimeout time.Duration) {
	t.Helper()
	e.backups = &Backups{DB: e.db, Dir: filepath.Join(e.db.Path+".d", "backups"), Service: e.svc}
	e.svc.Backups = e.backups
	e.readyTimeout = readyTimeout
	e.start(t, nil)
}

// writeDoc creates a document through a tenant's web replica.
func (e *factoryEnv) writeDoc(t *testing.T, slug, title string) {
	t.Helper()
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(e.webURL(t, slug)+"/documents", url.Values{"doctype": {"Contract"}, "title": {title}, "f.amount": {"7"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("create document %q: %s", title, resp.Status)
	}
}

// docs is the tenant's home page, which lists its documents.
func (e *factoryEnv) docs(t *testing.T, slug string) string {
	t.Helper()
	status, body := get(t, e.webURL(t, slug)+"/")
	if status != http.StatusOK {
		t.Fatalf("GET / of %s: %d", slug, status)
	}
	return body
}

// waitRestored waits until a tenant has no restore pending and runs.
func (e *factoryEnv) waitRestored(t *testing.T, id string, within time.Duration) *store.Tenant {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		pr, err := e.db.PendingRestoreOf(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		tn, _ := e.db.TenantByID(context.Background(), id)
		if pr == nil && tn.State == domain.StateRunning {
			if _, ok := e.routes.Get(tn.Slug); ok {
				return tn
			}
		}
		if time.Now().After(deadline) {
			e.fatalWithEvents(t, id, "restore not done")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBackupRestoreAndRestoreNew backs the sample platform up, writes a
// document after it, restores (the document is gone, the earlier one is
// back), restores the backup into a new tenant that serves the same
// documents, and refuses a damaged archive and another platform's backup.
func TestBackupRestoreAndRestoreNew(t *testing.T) {
	e := newFactoryEnv(t)
	e.withBackups(t, 30*time.Second)
	ctx := context.Background()
	tn := e.deploy(t, e.app(t, "Saver", "1.0", "trial", 1))
	e.writeDoc(t, tn.Slug, "Written before the backup")

	bk, err := e.backups.Take(ctx, tn, store.BackupManual, "tester")
	if err != nil {
		t.Fatal(err)
	}
	path, _ := e.backups.Path(bk)
	if st, err := os.Stat(path); err != nil || st.Size() != bk.Size || bk.Size == 0 {
		t.Fatalf("archive %s: %v (size %d, row says %d)", path, err, st.Size(), bk.Size)
	}
	if err := e.backups.Verify(bk); err != nil {
		t.Fatalf("fresh backup does not verify: %v", err)
	}
	tn = e.waitState(t, tn.ID, domain.StateRunning, 30*time.Second)
	e.writeDoc(t, tn.Slug, "Written after the backup")
	if body := e.docs(t, tn.Slug); !strings.Contains(body, "Written after the backup") {
		t.Fatal("the document written after the backup is not listed")
	}

	if err := e.backups.Restore(ctx, tn, bk, e.user); err != nil {
		t.Fatal(err)
	}
	tn = e.waitRestored(t, tn.ID, 60*time.Second)
	body := e.docs(t, tn.Slug)
	if !strings.Contains(body, "Written before the backup") || strings.Contains(body, "Written after the backup") {
		t.Fatalf("after the restore the tenant lists (want only the earlier document):\n%s", body)
	}

	// A backup of a stopped tenant (its database closed, no journal
	// beside it) restored: the store must be able to write again, so the
	// volume's own directory has kept its owner.
	if err := e.r.Passivate(ctx, tn.ID, "test"); err != nil {
		t.Fatal(err)
	}
	stopped, err := e.backups.Take(ctx, tn, store.BackupManual, "tester")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.waitState(t, tn.ID, domain.StatePassivated, 30*time.Second); got.DesiredState != domain.DesiredPassivated {
		t.Errorf("a passivated tenant's backup woke it: desired %s", got.DesiredState)
	}
	tn, _ = e.db.TenantByID(ctx, tn.ID)
	if err := e.backups.Restore(ctx, tn, stopped, e.user); err != nil {
		t.Fatal(err)
	}
	tn = e.waitRestored(t, tn.ID, 60*time.Second)
	e.writeDoc(t, tn.Slug, "Written after the restore")
	if body := e.docs(t, tn.Slug); !strings.Contains(body, "Written after the restore") || !strings.Contains(body, "Written before the backup") {
		t.Fatalf("after restoring a stopped tenant's backup:\n%s", body)
	}

	nt, err := e.backups.RestoreNew(ctx, bk, "Saver copy", e.user)
	if err != nil {
		t.Fatal(err)
	}
	if nt.OwnerID != tn.OwnerID || nt.AppID != tn.AppID || nt.Version != bk.Version {
		t.Errorf("new tenant owner %s app %s version %s, want %s %s %s", nt.OwnerID, nt.AppID, nt.Version, tn.OwnerID, tn.AppID, bk.Version)
	}
	e.waitState(t, nt.ID, domain.StateRunning, 90*time.Second)
	nt = e.waitRestored(t, nt.ID, 60*time.Second)
	if body := e.docs(t, nt.Slug); !strings.Contains(body, "Written before the backup") {
		t.Fatalf("the tenant restored from the backup does not serve its document:\n%s", body)
	}

	// A damaged archive: a row whose file does not match its checksum.
	bad := *bk
	bad.ID, bad.SHA256 = "", strings.Repeat("ab", 32)
	badPath, _ := e.backups.Path(&bad)
	if err := os.WriteFile(badPath, []byte("not the backup"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateBackup(ctx, &bad, "planted"); err != nil {
		t.Fatal(err)
	}
	if err := e.backups.Restore(ctx, tn, &bad, e.user); apperr.Code(err) != apperr.Unprocessable {
		t.Errorf("restore of a damaged archive: %v, want unprocessable", err)
	}
	other := *bk
	other.Platform = "another"
	if err := e.backups.Restore(ctx, tn, &other, e.user); apperr.Code(err) != apperr.Unprocessable {
		t.Errorf("restore of another platform's backup: %v, want unprocessable", err)
	}
	if pr, _ := e.db.PendingRestoreOf(ctx, tn.ID); pr != nil {
		t.Errorf("a refused restore is pending: %+v", pr)
	}

	// Content-addressed: the archive goes with the last row naming it.
	if err := e.backups.Delete(ctx, bk); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("archive of a deleted backup still there: %v", err)
	}
}

// TestUpgradeWhoseReadinessFailsIsRolledBack upgrades to a version whose
// routed port never answers: the pre-upgrade backup is taken, the new
// version fails its readiness, and the tenant is rolled back to the
// previous version with its data, the events saying why.
func TestUpgradeWhoseReadinessFailsIsRolledBack(t *testing.T) {
	e := newFactoryEnv(t)
	p, _ := e.cat.Platform("contentapp")
	broken := *mustVersion(t, p, "2.0")
	broken.Version, broken.Label, broken.LTS, broken.Deprecated = "3.0", "ContentApp 3.0 (never ready)", false, false
	broken.Stack = strings.Replace(p.Stack, "port: 8080", "port: 9999", 1)
	if broken.Stack == p.Stack {
		t.Fatal("the sample platform's route port is not 8080 any more: fix the test")
	}
	p.Versions = append(p.Versions, broken)
	e.svc.UpgradeDeadline = time.Millisecond // the first failed pass rolls back
	e.withBackups(t, 5*time.Second)
	ctx := context.Background()
	tn := e.deploy(t, e.app(t, "Upgrader", "1.0", "trial", 1))
	e.writeDoc(t, tn.Slug, "Kept through a failed upgrade")
	if err := e.svc.Upgrade(ctx, tn, e.user, "3.0"); err != nil {
		t.Fatal(err)
	}
	bks, err := e.db.ListBackups(ctx, tn.ID)
	if err != nil || len(bks) != 1 || bks[0].Kind != store.BackupPreUpgrade || bks[0].Version != "1.0" {
		t.Fatalf("backups after the upgrade began: %+v (%v), want one pre-upgrade backup of 1.0", bks, err)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		u, err := e.db.UpgradeOf(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.db.TenantByID(ctx, tn.ID)
		pr, _ := e.db.PendingRestoreOf(ctx, tn.ID)
		if u.State == store.UpgradeRolledBack && got.Version == "1.0" && got.State == domain.StateRunning && pr == nil {
			tn = got
			break
		}
		if time.Now().After(deadline) {
			e.fatalWithEvents(t, tn.ID, "not rolled back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if body := e.docs(t, tn.Slug); !strings.Contains(body, "Kept through a failed upgrade") {
		t.Fatalf("the document did not survive the rollback:\n%s", body)
	}
	evs, _ := e.db.ListEvents(ctx, tn.ID, 0, 0)
	var all []string
	for _, ev := range evs {
		all = append(all, ev.Message)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"Version 3.0 did not become ready", "rolling back to 1.0", "Restored the data of backup " + bks[0].ID} {
		if !strings.Contains(text, want) {
			t.Errorf("events lack %q:\n%s", want, text)
		}
	}
	if err := e.backups.Rollback(ctx, tn, e.user); apperr.Code(err) != apperr.Conflict {
		t.Errorf("a second rollback: %v, want conflict", err)
	}
}

func mustVersion(t *testing.T, p *catalog.Platform, v string) *catalog.Version {
	t.Helper()
	ver, ok := p.Version(v)
	if !ok {
		t.Fatalf("no version %s of %s", v, p.ID)
	}
	return ver
}

// TestBackupWithDumpHookCopiesLive declares a dump hook on the sample
// platform (its health command stands in for a dump: it runs in the store
// replica and exits 0) and backs up without pausing the tenant; the backup
// restores as any other.
func TestBackupWithDumpHookCopiesLive(t *testing.T) {
	e := newFactoryEnv(t)
	p, _ := e.cat.Platform("contentapp")
	hooked := strings.Replace(p.Stack, "  readiness: /healthz\n", "  readiness: /healthz\n  backup: {service: store, dump: [/contentapp, health, \"http://127.0.0.1:8081/healthz\"]}\n", 1)
	if hooked == p.Stack {
		t.Fatal("the sample platform's x-appfactory changed: fix the test")
	}
	p.Stack = hooked
	e.withBackups(t, 30*time.Second)
	ctx := context.Background()
	tn := e.deploy(t, e.app(t, "Hooked", "1.0", "trial", 1))
	e.writeDoc(t, tn.Slug, "Dumped live")
	bk, err := e.backups.Take(ctx, tn, store.BackupManual, "tester")
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := e.db.ListEvents(ctx, tn.ID, 0, 0)
	var hookRan bool
	for _, ev := range evs {
		if strings.Contains(ev.Message, "for a backup") {
			t.Errorf("the tenant was held for a backup with a dump hook: %s", ev.Message)
		}
		hookRan = hookRan || strings.Contains(ev.Message, "dump hook ran in store-1")
	}
	if !hookRan {
		e.fatalWithEvents(t, tn.ID, "no event of the dump hook")
	}
	e.writeDoc(t, tn.Slug, "After the live backup")
	if err := e.backups.Restore(ctx, tn, bk, e.user); err != nil {
		t.Fatal(err)
	}
	tn = e.waitRestored(t, tn.ID, 60*time.Second)
	if body := e.docs(t, tn.Slug); !strings.Contains(body, "Dumped live") || strings.Contains(body, "After the live backup") {
		t.Fatalf("after restoring the live backup:\n%s", body)
	}
}
