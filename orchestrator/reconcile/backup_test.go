package reconcile

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/store"
)

// archives holds tar snapshots by backup id, as the backups' files would.
type archives map[string][]byte

func (a archives) OpenBackup(_ context.Context, id string) (io.ReadCloser, error) {
	b, ok := a[id]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "The archive of backup %s is missing.", id)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// tarFiles lists the regular files of a snapshot with their content.
func tarFiles(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			c, _ := io.ReadAll(tr)
			out[h.Name] = string(c)
		}
	}
}

// backupEnv is a fake env whose reconciler restores from arch, with a
// readiness that fails while notReady is set.
func backupEnv(t *testing.T) (*fakeEnv, archives, *atomic.Bool) {
	t.Helper()
	e := newFakeEnv(t)
	arch := archives{}
	notReady := &atomic.Bool{}
	r, err := NewReconciler(ReconcilerOptions{
		DB: e.db, Runtime: e.rt, Blueprints: e.bp, Routes: e.routes, Archives: arch,
		OrphanGrace: time.Millisecond, ReadyTimeout: 2 * time.Second,
		Ready: func(context.Context, string) error {
			if notReady.Load() {
				return errors.New("not ready")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	return e, arch, notReady
}

func TestSnapshotPausesAndPutsTheTenantBack(t *testing.T) {
	e, _, _ := backupEnv(t)
	tn := seedTenant(t, e.db, "snap", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	e.rt.WriteFile(tn.ID, "data", "doc.txt", []byte("hello"))
	e.rt.TakeCalls()
	var buf bytes.Buffer
	if err := e.r.Snapshot(context.Background(), tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	calls := e.rt.TakeCalls()
	snap := slices.Index(calls, "snapshot "+tn.ID)
	if snap < 0 || !slices.Contains(calls[:snap], "pause snap/store-1") || !slices.Contains(calls[snap:], "unpause snap/store-1") {
		t.Fatalf("calls %q: want the replicas paused for the snapshot and resumed after it", calls)
	}
	if got := tarFiles(t, buf.Bytes()); got["data/doc.txt"] != "hello" {
		t.Errorf("snapshot holds %v, want data/doc.txt", got)
	}
	if got := e.tenant(t, tn.ID); got.State != domain.StateRunning {
		t.Errorf("state after the backup %s, want running", got.State)
	}
}

func TestPendingRestoreReplacesTheData(t *testing.T) {
	e, arch, _ := backupEnv(t)
	ctx := context.Background()
	tn := seedTenant(t, e.db, "rest", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	e.rt.WriteFile(tn.ID, "data", "doc.txt", []byte("at backup"))
	var buf bytes.Buffer
	if err := e.r.Snapshot(ctx, tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	bk := &store.Backup{TenantID: tn.ID, Platform: "testapp", Version: "1.0", Kind: store.BackupManual, Size: int64(buf.Len()), SHA256: "x"}
	if err := e.db.CreateBackup(ctx, bk, "taken"); err != nil {
		t.Fatal(err)
	}
	arch[bk.ID] = buf.Bytes()
	e.rt.WriteFile(tn.ID, "data", "doc.txt", []byte("after backup"))
	e.rt.WriteFile(tn.ID, "data", "new.txt", []byte("written later"))
	if err := e.db.RequestRestore(ctx, tn.ID, bk.ID, "restore asked"); err != nil {
		t.Fatal(err)
	}
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(calls, "restore "+tn.ID) {
		t.Fatalf("calls %q: want a restore", calls)
	}
	buf.Reset()
	if err := e.r.Snapshot(ctx, tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	if got := tarFiles(t, buf.Bytes()); len(got) != 1 || got["data/doc.txt"] != "at backup" {
		t.Errorf("after the restore the volume holds %v, want only data/doc.txt of the backup", got)
	}
	if pr, _ := e.db.PendingRestoreOf(ctx, tn.ID); pr != nil {
		t.Errorf("restore still pending: %+v", pr)
	}
	if got := e.tenant(t, tn.ID); got.State != domain.StateRunning {
		t.Errorf("state %s, want running", got.State)
	}
	if calls, _ := e.pass(t, tn.ID); slices.Contains(calls, "restore "+tn.ID) {
		t.Errorf("a second pass restored again: %q", calls)
	}
}

func TestFailedUpgradeIsRolledBackWithItsData(t *testing.T) {
	e, arch, notReady := backupEnv(t)
	ctx := context.Background()
	tn := seedTenant(t, e.db, "upg", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	e.rt.WriteFile(tn.ID, "data", "doc.txt", []byte("before the upgrade"))
	var buf bytes.Buffer
	if err := e.r.Snapshot(ctx, tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	bk := &store.Backup{TenantID: tn.ID, Platform: "testapp", Version: "1.0", Kind: store.BackupPreUpgrade, SHA256: "x"}
	if err := e.db.CreateBackup(ctx, bk, "taken"); err != nil {
		t.Fatal(err)
	}
	arch[bk.ID] = buf.Bytes()
	// The deadline has passed: the first failed pass of the new version rolls back.
	u := &store.Upgrade{TenantID: tn.ID, FromVersion: "1.0", ToVersion: "2.0", BackupID: bk.ID, Deadline: store.TimeOf(time.Now().Add(-time.Second))}
	if _, err := e.db.StartUpgrade(ctx, u, "upgrade asked"); err != nil {
		t.Fatal(err)
	}
	e.bp.base = "appfactory/testapp:2.0"
	notReady.Store(true)
	if _, err := e.pass(t, tn.ID); err == nil {
		t.Fatal("the pass of a version that never becomes ready succeeded")
	}
	e.rt.WriteFile(tn.ID, "data", "doc.txt", []byte("changed by the new version"))
	if got := e.tenant(t, tn.ID); got.Version != "1.0" {
		t.Fatalf("version after the failed upgrade %s, want 1.0 (rolled back)", got.Version)
	}
	notReady.Store(false)
	e.bp.base = "appfactory/testapp:1.0"
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := e.r.Snapshot(ctx, tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	if got := tarFiles(t, buf.Bytes()); got["data/doc.txt"] != "before the upgrade" {
		t.Errorf("after the rollback the volume holds %v, want the pre-upgrade data", got)
	}
	got, _ := e.db.UpgradeOf(ctx, tn.ID)
	if got.State != store.UpgradeRolledBack {
		t.Errorf("upgrade state %s, want rolled-back", got.State)
	}
	if evs := e.events(t, tn.ID); !hasEvent(evs, "did not become ready") || !hasEvent(evs, "Restored the data of backup "+bk.ID) {
		t.Errorf("events %q: want the rollback explained and the restore", evs)
	}
	if err := e.r.Rollback(ctx, tn.ID, "someone"); err == nil {
		t.Error("a second rollback of the same upgrade was accepted")
	}
}

func TestSnapshotRunsTheDumpHookAndCopiesLive(t *testing.T) {
	e, _, _ := backupEnv(t)
	e.bp.dumpService, e.bp.dump = "store", []string{"/server", "dump", "/data/dump.sql"}
	tn := seedTenant(t, e.db, "hook", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	e.rt.OnExec = func(tenant, replica string, cmd []string) error {
		e.rt.WriteFile(tenant, "data", "dump.sql", []byte("dumped by "+replica))
		return nil
	}
	e.rt.TakeCalls()
	var buf bytes.Buffer
	if err := e.r.Snapshot(context.Background(), tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, e.rt.TakeCalls(), "exec "+tn.ID+"/store-1 /server dump /data/dump.sql", "snapshot-live "+tn.ID)
	if got := tarFiles(t, buf.Bytes()); got["data/dump.sql"] != "dumped by store-1" {
		t.Errorf("snapshot holds %v, want the dump", got)
	}
	if evs := e.events(t, tn.ID); !hasEvent(evs, "dump hook ran in store-1") {
		t.Errorf("events %q: want the hook's run", evs)
	}

	// A hook that fails: the tenant is paused for the copy instead.
	e.rt.Fail["exec"] = 1
	buf.Reset()
	if err := e.r.Snapshot(context.Background(), tn.ID, &buf); err != nil {
		t.Fatal(err)
	}
	calls := e.rt.TakeCalls()
	if !slices.Contains(calls, "pause hook/store-1") || !slices.Contains(calls, "snapshot "+tn.ID) {
		t.Errorf("calls %q after a failed hook: want a paused copy", calls)
	}
	if evs := e.events(t, tn.ID); !hasEvent(evs, "dump hook failed in store-1") {
		t.Errorf("events %q: want the hook's failure", evs)
	}
}

// A pass that read the tenant before its upgrade was asked for ends after
// it: it decides nothing about the upgrade, which its own pass verifies.
func TestStalePassDoesNotVerifyAnUpgrade(t *testing.T) {
	e, _, _ := backupEnv(t)
	ctx := context.Background()
	tn := seedTenant(t, e.db, "stale", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	before := e.tenant(t, tn.ID)
	u := &store.Upgrade{TenantID: tn.ID, FromVersion: "1.0", ToVersion: "2.0", Deadline: store.TimeOf(time.Now().Add(time.Hour))}
	if _, err := e.db.StartUpgrade(ctx, u, "upgrade asked"); err != nil {
		t.Fatal(err)
	}
	e.r.checkUpgrade(ctx, before, nil)
	e.r.checkUpgrade(ctx, before, errors.New("a failure of the old version"))
	if got, _ := e.db.UpgradeOf(ctx, tn.ID); got.State != store.UpgradePending {
		t.Fatalf("upgrade %s after a stale pass, want pending", got.State)
	}
	e.bp.base = "appfactory/testapp:2.0"
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.UpgradeOf(ctx, tn.ID); got.State != store.UpgradeVerified {
		t.Errorf("upgrade %s after the new version's pass, want verified", got.State)
	}
}

// A restore whose archive is gone is given up, and the tenant left running.
func TestPendingRestoreOfAMissingArchiveIsGivenUp(t *testing.T) {
	e, _, _ := backupEnv(t)
	ctx := context.Background()
	tn := seedTenant(t, e.db, "gone", 1)
	if _, err := e.pass(t, tn.ID); err != nil {
		t.Fatal(err)
	}
	bk := &store.Backup{TenantID: tn.ID, Platform: "testapp", Version: "1.0", Kind: store.BackupManual, SHA256: "x"}
	if err := e.db.CreateBackup(ctx, bk, "taken"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.RequestRestore(ctx, tn.ID, bk.ID, "restore asked"); err != nil {
		t.Fatal(err)
	}
	calls, err := e.pass(t, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "stop ") || strings.HasPrefix(c, "restore ") }) {
		t.Errorf("calls %q: a restore that cannot be done stopped the tenant", calls)
	}
	if pr, _ := e.db.PendingRestoreOf(ctx, tn.ID); pr != nil {
		t.Errorf("restore still pending: %+v", pr)
	}
	if evs := e.events(t, tn.ID); !hasEvent(evs, "given up") {
		t.Errorf("events %q: want the restore given up", evs)
	}
}
