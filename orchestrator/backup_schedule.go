package orchestrator

import (
	"context"
	"log/slog"
	"time"

	"appfactory/store"
)

// RunSchedule takes the scheduled backups of every environment whose
// settings ask for them (one every backup_every_hours hours per tenant)
// and deletes each tenant's scheduled backups beyond the newest
// backup_keep, checking every tick until ctx is cancelled. It returns nil
// on cancel.
func (b *Backups) RunSchedule(ctx context.Context, tick time.Duration) error {
	if tick <= 0 {
		tick = time.Minute
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		b.ScheduleOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ScheduleOnce takes the scheduled backups due now and prunes the old ones.
func (b *Backups) ScheduleOnce(ctx context.Context) {
	schedules, err := b.DB.BackupSchedules(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log().Warn("backup schedules", slog.Any("err", err))
		}
		return
	}
	for env, s := range schedules {
		if s.EveryHours <= 0 {
			continue
		}
		due, err := b.DB.ScheduledDue(ctx, env, b.DB.Now().Add(-s.Every()))
		if err != nil {
			b.log().Warn("tenants due a backup", slog.String("environment", env), slog.Any("err", err))
			continue
		}
		for i := range due {
			if ctx.Err() != nil {
				return
			}
			t := &due[i]
			if _, err := b.Take(ctx, t, store.BackupScheduled, "the schedule"); err != nil {
				b.log().Warn("scheduled backup", slog.String("tenant", t.Slug), slog.Any("err", err))
				continue
			}
			b.prune(ctx, t, s.Keep)
		}
	}
}

// prune deletes a tenant's scheduled backups beyond the newest keep.
func (b *Backups) prune(ctx context.Context, t *store.Tenant, keep int) {
	old, err := b.DB.OldScheduled(ctx, t.ID, max(keep, 1))
	if err != nil {
		b.log().Warn("old backups", slog.String("tenant", t.Slug), slog.Any("err", err))
		return
	}
	for i := range old {
		if err := b.Delete(ctx, &old[i]); err != nil {
			b.log().Warn("delete old backup", slog.String("tenant", t.Slug), slog.String("backup", old[i].ID), slog.Any("err", err))
		}
	}
}
