package reconcile

import (
	"context"
	"fmt"
	"io"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// Archives opens the backups the reconciler restores: the tar of a
// backup's volumes, its checksum verified first.
type Archives interface {
	OpenBackup(ctx context.Context, backupID string) (io.ReadCloser, error)
}

// Snapshot copies a tenant's volumes to w under the tenant's lock. A
// running tenant whose platform declares a dump hook runs it and is
// copied live; otherwise the replicas are held still: a running tenant is
// paused for the copy (stopped where the runtime cannot pause) and then
// put back by an ordinary pass, a sleeping one is copied as it is.
func (r *Reconciler) Snapshot(ctx context.Context, tenantID string, w io.Writer) error {
	unlock, err := r.locks.lock(ctx, tenantID)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := r.db.TenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	if t.DesiredState == domain.DesiredDeleted {
		return apperr.New(apperr.NotFound, "Deployment not found.")
	}
	if t.Image == "" {
		return apperr.New(apperr.Conflict, "This deployment has no image yet: back it up once it is deployed.")
	}
	if done, err := r.snapshotByHook(ctx, t, w); done {
		return err
	}
	hold := runtime.ModePaused
	if !r.CanPause() || tenantMode(t) == runtime.ModeStopped {
		hold = runtime.ModeStopped
	}
	copyErr := r.hold(ctx, t, hold, func() error { return r.rt.Snapshot(ctx, tenantID, w) })
	// Whatever the copy did, the tenant goes back to what it should be; a
	// pass that fails is retried as any other.
	if t, err := r.db.TenantByID(ctx, tenantID); err == nil {
		if err := r.reconcileTenant(ctx, t); err != nil && ctx.Err() == nil {
			r.recordFailure(ctx, tenantID, err)
		}
	}
	if copyErr != nil {
		return fmt.Errorf("snapshot of %s: %w", t.Slug, copyErr)
	}
	return nil
}

// snapshotByHook copies a running tenant's volumes live after its
// platform's dump hook ran in a running replica of the hook's service,
// and reports whether it did (or failed copying); a tenant without a
// hook, not running, or whose hook failed is held still instead.
func (r *Reconciler) snapshotByHook(ctx context.Context, t *store.Tenant, w io.Writer) (bool, error) {
	if tenantMode(t) != runtime.ModeRunning {
		return false, nil
	}
	st, err := r.opts.Blueprints.Stack(ctx, t, r.stackParams(t))
	if err != nil || len(st.Dump) == 0 {
		return false, nil
	}
	obs, err := r.rt.Observe(ctx, t.ID)
	if err != nil {
		return false, nil
	}
	replica := ""
	for _, rp := range obs.Service(st.DumpService) {
		if rp.Running && rp.Generation == t.Generation {
			replica = rp.Name
			break
		}
	}
	if replica == "" {
		return false, nil
	}
	if _, err := r.rt.Exec(ctx, t.ID, replica, st.Dump); err != nil {
		r.log.Warn("dump hook failed", "tenant", t.Slug, "replica", replica, "err", err)
		r.event(ctx, t.ID, domain.EventBackup, "The platform's dump hook failed in %s: the deployment is paused for the copy instead", replica)
		return false, nil
	}
	r.event(ctx, t.ID, domain.EventBackup, "The platform's dump hook ran in %s: the volumes are copied while the deployment runs", replica)
	if err := r.rt.SnapshotLive(ctx, t.ID, w); err != nil {
		return true, fmt.Errorf("snapshot of %s: %w", t.Slug, err)
	}
	return true, nil
}

// hold applies a tenant's stack in mode (paused or stopped), with its
// route out of service meanwhile, and runs fn; the lock is held.
func (r *Reconciler) hold(ctx context.Context, t *store.Tenant, mode runtime.Mode, fn func() error) error {
	params := r.stackParams(t)
	params.Mode = mode
	st, err := r.opts.Blueprints.Stack(ctx, t, params)
	if err != nil {
		return runtime.StepFailed(err, "Preparing the deployment's stack failed")
	}
	r.mu.Lock()
	delete(r.converged, t.ID)
	r.mu.Unlock()
	if rte, ok := r.routes.Get(t.Slug); ok && rte.State == domain.StateRunning {
		// Requests wait for the tenant rather than reach frozen replicas.
		r.setRoute(t, domain.StatePaused, nil, st.Readiness)
	}
	if _, err := r.rt.Apply(ctx, &st.Stack, &holdReporter{r: r, t: t}); err != nil {
		return err
	}
	return fn()
}

// holdReporter turns the changes of a hold into the tenant's events
// without moving its state: the tenant is held for a moment, not
// passivated.
type holdReporter struct {
	r *Reconciler
	t *store.Tenant
}

func (h *holdReporter) Begin(context.Context, bool) error { return nil }
func (h *holdReporter) Changed(ctx context.Context, c runtime.Change) {
	h.r.event(ctx, h.t.ID, domain.EventObject, "%s (for a backup)", c.Message(false))
}
func (h *holdReporter) Point(name string) { h.r.failpoint(name) }

// restorePending puts the data of the backup the tenant waits for on its
// volumes, if any: the replicas of this generation are created stopped
// (the runtime copies through them), the volumes' content replaced, and
// the request recorded done; converge then starts the tenant as usual. A
// pass cut short does it again next time, to the same result.
func (p *pass) restorePending(ctx context.Context, st *runtime.Stack) error {
	if p.r.opts.Archives == nil {
		return nil
	}
	pr, err := p.r.db.PendingRestoreOf(ctx, p.t.ID)
	if err != nil || pr == nil {
		return err
	}
	// The archive first: one that is gone or damaged can never be
	// restored, so the request is dropped and the tenant left as it is.
	rc, err := p.r.opts.Archives.OpenBackup(ctx, pr.BackupID)
	if code := apperr.Code(err); code == apperr.NotFound || code == apperr.Unprocessable {
		return p.r.db.FinishRestore(ctx, p.t.ID, pr.BackupID, "Restore of backup "+pr.BackupID+" given up: "+apperr.Message(err))
	}
	if err != nil {
		return runtime.StepFailed(err, "Opening backup %s failed", pr.BackupID)
	}
	defer rc.Close()
	// The tenant is deploying until converge has it running again, and
	// its requests wait meanwhile rather than reach stopped replicas.
	if err := p.begin(ctx, true); err != nil {
		return err
	}
	p.r.setRoute(p.t, p.t.State, nil, "")
	stopped := *st
	stopped.Mode = runtime.ModeStopped
	if _, err := p.r.rt.Apply(ctx, &stopped, p); err != nil {
		return err
	}
	if err := p.r.rt.RestoreSnapshot(ctx, p.t.ID, rc); err != nil {
		return runtime.StepFailed(err, "Restoring backup %s failed", pr.BackupID)
	}
	p.r.mu.Lock()
	delete(p.r.converged, p.t.ID)
	p.r.mu.Unlock()
	return p.r.db.FinishRestore(ctx, p.t.ID, pr.BackupID, "Restored the data of backup "+pr.BackupID)
}

// checkUpgrade follows a tenant's pending upgrade after each pass of it;
// seen is the tenant as the pass read it, so that a pass of the version
// before (one queued before the upgrade was asked for) decides nothing.
// Once the new version is running and ready the upgrade is verified; when
// a pass of it fails for good (a permanent failure, the failures the
// reconciler allows, or past the upgrade's deadline) the tenant is rolled
// back to the previous version and the pre-upgrade backup's data. The
// lock is held.
func (r *Reconciler) checkUpgrade(ctx context.Context, seen *store.Tenant, passErr error) {
	u, err := r.db.UpgradeOf(ctx, seen.ID)
	if err != nil || u.State != store.UpgradePending || seen.Version != u.ToVersion || seen.DesiredState == domain.DesiredDeleted {
		return
	}
	if passErr == nil {
		if seen.State == domain.StateRunning {
			_ = r.db.SetUpgradeState(ctx, seen.ID, store.UpgradeVerified)
			r.event(ctx, seen.ID, domain.EventBackup, "Upgrade to %s verified: the new version is ready", u.ToVersion)
		}
		return
	}
	t, err := r.db.TenantByID(ctx, seen.ID)
	if err != nil || t.Generation != seen.Generation {
		return // asked to change again meanwhile: that pass decides
	}
	if !permanent(passErr) && t.Failures < r.opts.MaxFailures && time.Now().Before(u.Deadline.Time) {
		return
	}
	reason := fmt.Sprintf("Version %s did not become ready (%s): rolling back to %s", u.ToVersion, failureReason(passErr), u.FromVersion)
	if _, err := r.db.RollBackUpgrade(ctx, u, reason); err != nil {
		r.log.Warn("roll back upgrade", "tenant", t.Slug, "err", err)
		return
	}
	r.forget(t.ID)
	r.queue.add(t.ID)
}

// Rollback puts a tenant back on the version before its last upgrade,
// with the pre-upgrade backup's data, asked by a user: the next pass
// rebuilds (or reuses) the old image, restores the data, and starts it.
func (r *Reconciler) Rollback(ctx context.Context, tenantID, by string) error {
	unlock, err := r.locks.lock(ctx, tenantID)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := r.db.TenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	u, err := r.db.UpgradeOf(ctx, tenantID)
	if apperr.Code(err) == apperr.NotFound || err == nil && (u.State == store.UpgradeRolledBack || u.ToVersion != t.Version) {
		return apperr.New(apperr.Conflict, "This deployment has no upgrade to roll back.")
	}
	if err != nil {
		return err
	}
	if _, err := r.db.RollBackUpgrade(ctx, u, fmt.Sprintf("Rollback from %s to %s requested by %s", u.ToVersion, u.FromVersion, by)); err != nil {
		return err
	}
	r.forget(tenantID)
	r.queue.add(tenantID)
	return nil
}
