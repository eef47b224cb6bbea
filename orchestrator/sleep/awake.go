package sleep

import (
	"context"
	"sync"
	"time"

	"appfactory/store"
)

// UnusedAfter is how long a running tenant goes without a request before
// its awake time counts as without use.
const UnusedAfter = time.Minute

// awakeMeter adds up, per tenant and day, the time each tenant runs and
// the part of it without use, from the passivator's checks; flush writes
// it in one transaction.
type awakeMeter struct {
	mu    sync.Mutex
	last  time.Time // the previous check
	sums  map[string]*store.AwakeTime
	limit time.Duration // a gap longer than this (a stalled process) counts as this
}

func newAwakeMeter(interval time.Duration) *awakeMeter {
	return &awakeMeter{sums: make(map[string]*store.AwakeTime), limit: 5 * interval}
}

// tick starts a check at now and returns the time since the previous one.
func (m *awakeMeter) tick(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dt time.Duration
	if !m.last.IsZero() {
		dt = min(max(now.Sub(m.last), 0), m.limit)
	}
	m.last = now
	return dt
}

// add counts dt of awake time for a tenant, unused when it had no request
// for UnusedAfter.
func (m *awakeMeter) add(tenantID string, now time.Time, dt, idle time.Duration) {
	if dt <= 0 {
		return
	}
	day := now.UTC().Format(time.DateOnly)
	key := tenantID + "/" + day
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.sums[key]
	if a == nil {
		a = &store.AwakeTime{TenantID: tenantID, Day: day}
		m.sums[key] = a
	}
	a.Awake += dt
	if idle >= UnusedAfter {
		a.Unused += dt
	}
}

// flush writes what was added since the last flush; on failure it is kept
// for the next one.
func (m *awakeMeter) flush(ctx context.Context, st interface {
	RecordAwake(ctx context.Context, batch []store.AwakeTime) error
}) error {
	m.mu.Lock()
	batch := make([]store.AwakeTime, 0, len(m.sums))
	for _, a := range m.sums {
		batch = append(batch, *a)
	}
	m.sums = make(map[string]*store.AwakeTime)
	m.mu.Unlock()
	if err := st.RecordAwake(ctx, batch); err != nil {
		m.mu.Lock()
		for _, a := range batch {
			key := a.TenantID + "/" + a.Day
			if cur := m.sums[key]; cur != nil {
				cur.Awake += a.Awake
				cur.Unused += a.Unused
			} else {
				b := a
				m.sums[key] = &b
			}
		}
		m.mu.Unlock()
		return err
	}
	return nil
}

// pending is a tenant's awake time counted since the last flush.
func (m *awakeMeter) pending(tenantID string) (awake, unused time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.sums {
		if a.TenantID == tenantID {
			awake += a.Awake
			unused += a.Unused
		}
	}
	return awake, unused
}

// PendingAwake is a tenant's awake time, and the part of it without use,
// counted but not yet written: a page adds it to what the database says.
func (p *Passivator) PendingAwake(tenantID string) (awake, unused time.Duration) {
	return p.meter.pending(tenantID)
}
