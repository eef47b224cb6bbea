package orchestrator

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// snapshotter is the part of the Reconciler backups need: it holds a
// tenant still for the copy and is the one that changes its objects.
type snapshotter interface {
	Snapshot(ctx context.Context, tenantID string, w io.Writer) error
	Rollback(ctx context.Context, tenantID, by string) error
	Wake(tenantID string)
}

// Backups takes, keeps, restores and deletes the backups of tenants'
// volumes. An archive is a gzipped tar stored once per content under
// Dir/sha256/<hex>.tar.gz; the rows (store/backup.go) say whose it is.
type Backups struct {
	DB *store.DB
	// Dir is the backups' folder (<data dir>/backups).
	Dir        string
	Reconciler snapshotter
	// Service plans the tenant a backup is restored into (RestoreNew).
	Service *Service
	Logger  *slog.Logger
}

var hexSHA = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Path is where a backup's archive is stored.
func (b *Backups) Path(bk *store.Backup) (string, error) {
	if !hexSHA.MatchString(bk.SHA256) {
		return "", fmt.Errorf("backup %s: malformed checksum", bk.ID)
	}
	return filepath.Join(b.Dir, "sha256", bk.SHA256+".tar.gz"), nil
}

// Take backs a tenant up now, synchronously: the reconciler pauses (or
// keeps stopped) its replicas for the copy and puts it back as it was.
func (b *Backups) Take(ctx context.Context, t *store.Tenant, kind, by string) (*store.Backup, error) {
	if t.DesiredState == domain.DesiredDeleted {
		return nil, apperr.New(apperr.Conflict, "This deployment is deleted.")
	}
	if err := os.MkdirAll(filepath.Join(b.Dir, "sha256"), 0o750); err != nil {
		return nil, fmt.Errorf("backups folder: %w", err)
	}
	tmp, err := os.CreateTemp(b.Dir, "taking-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("backup of %s: %w", t.Slug, err)
	}
	defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
	b.event(ctx, t.ID, "Backup (%s) started by %s", kind, by)
	sum, size := sha256.New(), &counter{}
	gz := gzip.NewWriter(io.MultiWriter(tmp, sum, size))
	if err := b.Reconciler.Snapshot(ctx, t.ID, gz); err != nil {
		b.event(ctx, t.ID, "Backup (%s) failed: %s", kind, snapshotReason(err))
		if errors.Is(err, runtime.ErrNotFound) {
			return nil, apperr.New(apperr.Conflict, "This deployment has no containers to back up yet.")
		}
		if apperr.Code(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("backup of %s: %w", t.Slug, err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("backup of %s: %w", t.Slug, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("backup of %s: %w", t.Slug, err)
	}
	bk := &store.Backup{ID: store.NewID(), TenantID: t.ID, Platform: t.Platform, Version: t.Version, Kind: kind,
		Size: size.n, SHA256: hex.EncodeToString(sum.Sum(nil)), CreatedBy: by}
	path, err := b.Path(bk)
	if err != nil {
		return nil, err
	}
	// The same content is stored once: an archive already there is kept.
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return nil, fmt.Errorf("store backup of %s: %w", t.Slug, err)
		}
	}
	if err := b.DB.CreateBackup(ctx, bk, fmt.Sprintf("Backup %s (%s) taken: %d bytes, sha256 %s", bk.ID, kind, bk.Size, bk.SHA256[:12])); err != nil {
		return nil, err
	}
	b.log().Info("backup taken", slog.String("tenant", t.Slug), slog.String("backup", bk.ID), slog.String("kind", kind), slog.Int64("size", bk.Size))
	return bk, nil
}

// snapshotReason is a failed copy in words safe to show.
func snapshotReason(err error) string {
	if errors.Is(err, runtime.ErrNotFound) {
		return "the deployment has no containers yet"
	}
	if apperr.Code(err) != apperr.Internal {
		return apperr.Message(err)
	}
	return "an internal error occurred"
}

// Verify checks a backup's archive against its checksum.
func (b *Backups) Verify(bk *store.Backup) error {
	path, err := b.Path(bk)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return apperr.New(apperr.Unprocessable, "The archive of backup %s is missing.", bk.ID)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return fmt.Errorf("read backup %s: %w", bk.ID, err)
	}
	if hex.EncodeToString(sum.Sum(nil)) != bk.SHA256 {
		return apperr.New(apperr.Unprocessable, "The archive of backup %s does not match its checksum: it is damaged and is not restored.", bk.ID)
	}
	return nil
}

// OpenBackup implements reconcile.Archives: the tar of a backup whose
// archive matches its checksum.
func (b *Backups) OpenBackup(ctx context.Context, id string) (io.ReadCloser, error) {
	bk, err := b.DB.BackupByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := b.Verify(bk); err != nil {
		return nil, err
	}
	path, _ := b.Path(bk)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	return &gzipFile{Reader: gz, f: f}, nil
}

// gzipFile closes the archive with its reader.
type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error { return errors.Join(g.Reader.Close(), g.f.Close()) }

// counter counts the bytes written through it.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func (b *Backups) event(ctx context.Context, tenantID, format string, args ...any) {
	if err := b.DB.AddEvent(ctx, tenantID, domain.EventBackup, fmt.Sprintf(format, args...)); err != nil {
		b.log().Warn("record event", slog.String("tenant", tenantID), slog.Any("err", err))
	}
}

func (b *Backups) log() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}
