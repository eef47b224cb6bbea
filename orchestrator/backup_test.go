package orchestrator

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/store"
)

// fixedSnapshots writes a one-file snapshot whose content the test sets.
type fixedSnapshots struct {
	mu      sync.Mutex
	content string
	recordingWaker
}

func (f *fixedSnapshots) set(c string) { f.mu.Lock(); f.content = c; f.mu.Unlock() }

func (f *fixedSnapshots) Snapshot(_ context.Context, _ string, w io.Writer) error {
	f.mu.Lock()
	c := f.content
	f.mu.Unlock()
	tw := tar.NewWriter(w)
	_ = tw.WriteHeader(&tar.Header{Name: "data/doc.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(c))})
	_, _ = io.WriteString(tw, c)
	return tw.Close()
}

func (f *fixedSnapshots) Rollback(context.Context, string, string) error { return nil }

// backupsEnv is Backups over a real database and folder, a deployed
// tenant of the trial environment, and a clock the test moves.
func backupsEnv(t *testing.T) (*Backups, *fixedSnapshots, *store.Tenant, *time.Time) {
	t.Helper()
	svc, _, u := newServiceEnv(t)
	now := time.Now().UTC()
	svc.DB.Now = func() time.Time { return now }
	tn, err := svc.DeployApp(context.Background(), storeApp(t, svc.DB, u, "Kept", "1.0", "trial", 1), u)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DB.SetTenantImage(context.Background(), tn.ID, "appfactory/tenant-contentapp:x"); err != nil {
		t.Fatal(err)
	}
	if err := svc.DB.SetTenantState(context.Background(), tn.ID, domain.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	snaps := &fixedSnapshots{content: "v1"}
	b := &Backups{DB: svc.DB, Dir: filepath.Join(t.TempDir(), "backups"), Reconciler: snaps, Service: svc}
	return b, snaps, tn, &now
}

func TestBackupsAreStoredOncePerContent(t *testing.T) {
	b, snaps, tn, _ := backupsEnv(t)
	ctx := context.Background()
	one, err := b.Take(ctx, tn, store.BackupManual, "t")
	if err != nil {
		t.Fatal(err)
	}
	two, err := b.Take(ctx, tn, store.BackupManual, "t")
	if err != nil {
		t.Fatal(err)
	}
	if one.SHA256 != two.SHA256 || one.ID == two.ID {
		t.Fatalf("two backups of the same data: %s %s, %s %s", one.ID, one.SHA256, two.ID, two.SHA256)
	}
	snaps.set("v2")
	three, err := b.Take(ctx, tn, store.BackupManual, "t")
	if err != nil || three.SHA256 == one.SHA256 {
		t.Fatalf("a backup of other data: %v, %s", err, three.SHA256)
	}
	files, _ := filepath.Glob(filepath.Join(b.Dir, "sha256", "*.tar.gz"))
	if len(files) != 2 {
		t.Errorf("archives %v, want 2 (one per content)", files)
	}
	if err := b.Delete(ctx, one); err != nil {
		t.Fatal(err)
	}
	path, _ := b.Path(two)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("archive of a backup still named by another row: %v", err)
	}
	if err := b.Delete(ctx, two); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("archive named by no row: %v, want it removed", err)
	}
	if left, _ := filepath.Glob(filepath.Join(b.Dir, "*")); len(left) != 1 {
		t.Errorf("backups folder holds %v, want only sha256/ (no temporary files)", left)
	}
}

func TestScheduledBackupsAndRetention(t *testing.T) {
	b, snaps, tn, now := backupsEnv(t)
	ctx := context.Background()
	b.ScheduleOnce(ctx)
	if bks, _ := b.DB.ListBackups(ctx, tn.ID); len(bks) != 0 {
		t.Fatalf("backups without a schedule: %d", len(bks))
	}
	if err := b.DB.SetBackupSchedule(ctx, store.BackupSchedule{Environment: "trial", EveryHours: 6, Keep: 2}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, content := range []string{"a", "b", "c"} {
		snaps.set(content)
		b.ScheduleOnce(ctx)
		b.ScheduleOnce(ctx) // not due again yet
		bks, _ := b.DB.ListBackups(ctx, tn.ID)
		if want := min(i+1, 2); len(bks) != want {
			t.Fatalf("round %d: %d backups, want %d", i, len(bks), want)
		}
		if bks[0].Kind != store.BackupScheduled {
			t.Errorf("kind %s", bks[0].Kind)
		}
		ids = append(ids, bks[0].ID)
		*now = now.Add(7 * time.Hour)
	}
	if _, err := b.DB.BackupByID(ctx, ids[0]); err == nil {
		t.Error("the oldest scheduled backup was kept beyond backup_keep")
	}
}
