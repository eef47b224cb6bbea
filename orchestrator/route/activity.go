package route

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"appfactory/store"
)

// activityStore receives the batched activity.
type activityStore interface {
	RecordActivity(ctx context.Context, batch []store.TenantActivity) error
}

// Activity tracks, in memory, when each tenant last served a request and
// how many requests it has in flight. The router marks every request; the
// passivator asks how long a tenant has been idle; Run flushes the times
// and request counts to the database every few seconds, so no request
// writes to the database.
type Activity struct {
	mu      sync.RWMutex
	tenants map[string]*tenantActivity
	store   activityStore
	// Now is the clock (time.Now); tests of the passivator set their own.
	Now    func() time.Time
	logger *slog.Logger
}

// tenantActivity uses atomics so that concurrent requests of one tenant
// only share a read lock on the map.
type tenantActivity struct {
	last     atomic.Int64 // unix nanoseconds of the latest begin or end
	inflight atomic.Int64
	pending  atomic.Int64 // requests not yet flushed
	flushed  atomic.Int64 // last value of `last` written to the database
	noted    atomic.Int64 // unix nanoseconds of the latest Note
	note     atomic.Pointer[string]
	dirty    atomic.Bool // note not yet flushed
}

// NewActivity returns an empty tracker flushing to st (nil: never flushed).
func NewActivity(st activityStore, logger *slog.Logger) *Activity {
	if logger == nil {
		logger = slog.Default()
	}
	return &Activity{tenants: make(map[string]*tenantActivity), store: st, Now: time.Now, logger: logger}
}

func (a *Activity) get(tenantID string) *tenantActivity {
	a.mu.RLock()
	t := a.tenants[tenantID]
	a.mu.RUnlock()
	if t != nil {
		return t
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t = a.tenants[tenantID]; t == nil {
		t = &tenantActivity{}
		a.tenants[tenantID] = t
	}
	return t
}

// Begin marks the start of a request and returns the function that marks
// its end, to call when the request (a WebSocket, a stream) is over. A
// tenant is never idle while a request is in flight.
func (a *Activity) Begin(tenantID string) (end func()) {
	t := a.get(tenantID)
	t.inflight.Add(1)
	t.pending.Add(1)
	t.last.Store(a.Now().UnixNano())
	return func() {
		t.last.Store(a.Now().UnixNano())
		t.inflight.Add(-1)
	}
}

// BeginQuiet counts a request in flight, so the tenant is not stopped
// under it, without marking the tenant active: a crawler's or monitor's
// request never keeps a tenant awake.
func (a *Activity) BeginQuiet(tenantID string) (end func()) {
	t := a.get(tenantID)
	t.inflight.Add(1)
	return func() { t.inflight.Add(-1) }
}

// noteEvery bounds how often a tenant's latest request is described.
const noteEvery = time.Second

// NoteDue reports whether a tenant's latest real request should be
// described again (Note): at most once a second, so that a busy tenant's
// requests cost no description each.
func (a *Activity) NoteDue(tenantID string) bool {
	t := a.get(tenantID)
	now := a.Now().UnixNano()
	prev := t.noted.Load()
	return now-prev >= int64(noteEvery) && t.noted.CompareAndSwap(prev, now)
}

// Note records what a tenant's latest real request was, in words, for
// the next flush.
func (a *Activity) Note(tenantID, what string) {
	t := a.get(tenantID)
	t.note.Store(&what)
	t.dirty.Store(true)
}

// Touch marks a tenant active now without counting a request: a tenant
// that has just been started gets a full idle period.
func (a *Activity) Touch(tenantID string) {
	a.get(tenantID).last.Store(a.Now().UnixNano())
}

// Forget drops a deleted tenant.
func (a *Activity) Forget(tenantID string) {
	a.mu.Lock()
	delete(a.tenants, tenantID)
	a.mu.Unlock()
}

// Idle reports how long a tenant has had no request at now, measured from
// since when it has no recorded activity; a tenant with a request in
// flight is idle for zero.
func (a *Activity) Idle(tenantID string, now, since time.Time) time.Duration {
	a.mu.RLock()
	t := a.tenants[tenantID]
	a.mu.RUnlock()
	last := since
	if t != nil {
		if t.inflight.Load() > 0 {
			return 0
		}
		if l := time.Unix(0, t.last.Load()); l.After(last) {
			last = l
		}
	}
	if d := now.Sub(last); d > 0 {
		return d
	}
	return 0
}

// InFlight returns the number of requests a tenant has in flight.
func (a *Activity) InFlight(tenantID string) int64 {
	a.mu.RLock()
	t := a.tenants[tenantID]
	a.mu.RUnlock()
	if t == nil {
		return 0
	}
	return t.inflight.Load()
}

// Flush writes the activity since the last flush in one transaction. On
// failure the counts are kept for the next flush.
func (a *Activity) Flush(ctx context.Context) error {
	if a.store == nil {
		return nil
	}
	now := a.Now().UTC()
	day := now.Format(time.DateOnly)
	type taken struct {
		t    *tenantActivity
		n    int64
		last int64
		note string
	}
	var batch []store.TenantActivity
	var took []taken
	a.mu.RLock()
	for id, t := range a.tenants {
		n := t.pending.Swap(0)
		last := t.last.Load()
		var note string
		if t.dirty.Swap(false) {
			if p := t.note.Load(); p != nil {
				note = *p
			}
		}
		if n == 0 && last == t.flushed.Load() && note == "" {
			continue
		}
		var lastAt time.Time
		if last != 0 {
			lastAt = time.Unix(0, last).UTC()
		}
		batch = append(batch, store.TenantActivity{TenantID: id, LastActive: lastAt, LastRequest: note, Day: day, Requests: n})
		took = append(took, taken{t, n, last, note})
	}
	a.mu.RUnlock()
	if len(batch) == 0 {
		return nil
	}
	if err := a.store.RecordActivity(ctx, batch); err != nil {
		for _, k := range took {
			k.t.pending.Add(k.n)
			if k.note != "" {
				k.t.dirty.Store(true)
			}
		}
		return err
	}
	for _, k := range took {
		k.t.flushed.Store(k.last)
	}
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more.
func (a *Activity) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := a.Flush(fctx); err != nil {
				a.logger.Error("flush activity on shutdown", slog.Any("err", err))
			}
			return nil
		case <-tick.C:
			if err := a.Flush(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("flush activity", slog.Any("err", err))
			}
		}
	}
}
