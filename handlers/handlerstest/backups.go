package handlerstest

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"appfactory/apperr"
	"appfactory/handlers"
	"appfactory/orchestrator"
	"appfactory/store"
)

// Snapshots stands in for the reconciler under a test portal: a snapshot
// is a tar of one file whose content the test sets (Content), and a
// rollback changes the database as the reconciler's does, leaving the
// work to the (absent) next pass.
type Snapshots struct {
	DB    *store.DB
	Wakes *Wakes
	mu    sync.Mutex
	// Content is the data/content.txt of the next snapshots.
	content string
	taken   []string
}

// SetContent sets what the next snapshots hold.
func (s *Snapshots) SetContent(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.content = c
}

// Taken lists the tenants snapshotted so far, in order.
func (s *Snapshots) Taken() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.taken...)
}

// Snapshot writes the one-file snapshot.
func (s *Snapshots) Snapshot(_ context.Context, tenantID string, w io.Writer) error {
	s.mu.Lock()
	content := s.content
	s.taken = append(s.taken, tenantID)
	s.mu.Unlock()
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "data/content.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, content); err != nil {
		return err
	}
	return tw.Close()
}

// Rollback records the rollback of the tenant's last upgrade.
func (s *Snapshots) Rollback(ctx context.Context, tenantID, by string) error {
	t, err := s.DB.TenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	u, err := s.DB.UpgradeOf(ctx, tenantID)
	if err != nil || u.State == store.UpgradeRolledBack || u.ToVersion != t.Version {
		return apperr.New(apperr.Conflict, "This deployment has no upgrade to roll back.")
	}
	_, err = s.DB.RollBackUpgrade(ctx, u, fmt.Sprintf("Rollback from %s to %s requested by %s", u.ToVersion, u.FromVersion, by))
	s.Wake(tenantID)
	return err
}

// Wake records the tenant woken.
func (s *Snapshots) Wake(tenantID string) { s.Wakes.Wake(tenantID) }

// withBackups gives h the real orchestrator.Backups over Snapshots, with
// the archives under the data directory, where configure set none; the
// Service takes its pre-upgrade backups through it.
func withBackups(h *handlers.Handlers, env *Env) {
	env.Snapshots = &Snapshots{DB: h.DB, Wakes: &env.Wakes}
	env.Backups = &orchestrator.Backups{DB: h.DB, Dir: filepath.Join(env.Dir, "backups"), Reconciler: env.Snapshots,
		Service: env.Service, Logger: h.Logger}
	env.Service.Backups = env.Backups
	if h.Backups == nil {
		h.Backups = env.Backups
	}
}
