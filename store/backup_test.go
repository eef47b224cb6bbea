package store_test

import (
	"context"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

func TestBackupRowsListDeleteAndShare(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	user, app := seedOwnerApp(t, db)
	tn := newTenant(user, app, "acme")
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i, sha := range []string{"aa", "aa", "bb"} {
		b := &store.Backup{TenantID: tn.ID, Platform: "contentapp", Version: "1.0", Kind: store.BackupManual,
			Size: 10, SHA256: sha, CreatedAt: store.TimeOf(base.Add(time.Duration(i) * time.Hour))}
		if err := db.CreateBackup(ctx, b, "taken"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	bks, err := db.ListBackups(ctx, tn.ID)
	if err != nil || len(bks) != 3 || bks[0].ID != ids[2] || bks[2].ID != ids[0] {
		t.Fatalf("list %+v (%v), want newest first", bks, err)
	}
	if _, shared, err := db.DeleteBackup(ctx, ids[0]); err != nil || !shared {
		t.Errorf("delete of a backup whose archive another names: shared %v, %v", shared, err)
	}
	if _, shared, err := db.DeleteBackup(ctx, ids[1]); err != nil || shared {
		t.Errorf("delete of the last backup naming its archive: shared %v, %v", shared, err)
	}
	if _, _, err := db.DeleteBackup(ctx, ids[1]); apperr.Code(err) != apperr.NotFound {
		t.Errorf("delete twice: %v, want not found", err)
	}
	if _, err := db.BackupByID(ctx, "nope"); apperr.Code(err) != apperr.NotFound {
		t.Errorf("unknown backup: %v", err)
	}
	bad := &store.Backup{TenantID: tn.ID, Platform: "contentapp", Version: "1.0", Kind: "weekly", Size: 1, SHA256: "cc"}
	if err := db.CreateBackup(ctx, bad, "x"); err == nil {
		t.Error("a backup of an unknown kind was stored")
	}
}

func TestRollBackUpgradeRequestsTheRestore(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	user, app := seedOwnerApp(t, db)
	tn := newTenant(user, app, "acme")
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	b := &store.Backup{TenantID: tn.ID, Platform: "contentapp", Version: "1.0", Kind: store.BackupPreUpgrade, Size: 1, SHA256: "aa"}
	if err := db.CreateBackup(ctx, b, "taken"); err != nil {
		t.Fatal(err)
	}
	u := &store.Upgrade{TenantID: tn.ID, FromVersion: "1.0", ToVersion: "2.0", BackupID: b.ID, Deadline: store.TimeOf(db.Now().Add(time.Hour))}
	if gen, err := db.StartUpgrade(ctx, u, "up"); err != nil || gen != 2 {
		t.Fatalf("start upgrade: generation %d, %v", gen, err)
	}
	if got, _ := db.TenantByID(ctx, tn.ID); got.Version != "2.0" || got.Image != "" {
		t.Errorf("after the upgrade began: version %s image %q", got.Version, got.Image)
	}
	if gen, err := db.RollBackUpgrade(ctx, u, "back"); err != nil || gen != 3 {
		t.Fatalf("roll back: generation %d, %v", gen, err)
	}
	got, _ := db.TenantByID(ctx, tn.ID)
	up, _ := db.UpgradeOf(ctx, tn.ID)
	pr, _ := db.PendingRestoreOf(ctx, tn.ID)
	if got.Version != "1.0" || up.State != store.UpgradeRolledBack || pr == nil || pr.BackupID != b.ID {
		t.Fatalf("after the rollback: version %s, upgrade %s, pending %+v", got.Version, up.State, pr)
	}
	if err := db.FinishRestore(ctx, tn.ID, b.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if pr, _ := db.PendingRestoreOf(ctx, tn.ID); pr != nil {
		t.Errorf("restore still pending: %+v", pr)
	}
}
