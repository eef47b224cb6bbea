// Package budget bounds the memory that running tenants may hold on the
// host: the sum of the memory limits of every tenant that is running,
// paused (a frozen container keeps its memory) or starting stays within
// the budget. A start that would exceed it first has the least recently
// used idle tenants put to sleep; when nothing can be freed it waits in a
// FIFO queue, one place per tenant, and is let in as soon as memory frees
// up. It reads tenant states from the route table and idleness from the
// activity tracker, and imports no other stage.
package budget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
)

// Evictor puts tenants to sleep to make room; the passivator implements it.
type Evictor interface {
	// Evictable reports which tenants live in an environment that sleeps:
	// the others (production) are never evicted.
	Evictable(ctx context.Context) (map[string]bool, error)
	// Evict stops a tenant's containers, as an idle timeout would.
	Evict(ctx context.Context, tenantID, reason string) error
}

// Config configures a Budget.
type Config struct {
	// Bytes is the budget: the most the memory limits of the tenants that
	// hold memory may add up to.
	Bytes int64
	// Size returns a tenant's memory limit: every service's limit times
	// its replicas.
	Size func(ctx context.Context, tenantID string) (int64, error)
	// Evictor puts idle tenants to sleep (nil: nothing is ever evicted).
	Evictor Evictor
	// MinIdle is how long a tenant must have been idle to be evicted, so
	// that a tenant just started for a browser is not stopped before the
	// browser reloads (default 5 s).
	MinIdle time.Duration
	// RetryFailed is how long a tenant whose eviction failed is left out of
	// the candidates (default 10 s).
	RetryFailed time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

// TooLargeError refuses a tenant whose own limit exceeds the whole budget:
// it would wait forever.
type TooLargeError struct {
	TenantID     string
	Bytes, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("tenant %s needs %s of memory, more than the host's whole memory budget of %s", e.TenantID, MiB(e.Bytes), MiB(e.Limit))
}

// UserMessage is the refusal as the starting page shows it.
func (e *TooLargeError) UserMessage() string {
	return fmt.Sprintf("This app needs %s of memory, more than this host's whole memory budget (%s): it cannot be started here. Contact its owner.",
		MiB(e.Bytes), MiB(e.Limit))
}

// MiB writes a byte count as people read memory limits.
func MiB(b int64) string {
	if b >= 1<<30 && b%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", b>>30)
	}
	return fmt.Sprintf("%d MiB", (b+(1<<20)-1)>>20)
}

// waiter is one tenant's place in the queue, shared by every caller that
// asks to start that tenant while it waits.
type waiter struct {
	tenantID string
	bytes    int64
	since    time.Time
	ready    chan struct{}
	callers  int
	// gone is set, before ready is closed, when the tenant was deleted
	// while it waited: its callers get ErrGone.
	gone bool
}

// ErrGone is the answer to a start whose tenant was deleted while it waited.
var ErrGone = errors.New("the tenant was deleted while it waited for memory")

// member is a tenant whose route says it holds memory.
type member struct {
	slug  string
	state string
}

// Budget is the host's memory budget. Admit lets a tenant start, Watch
// keeps the accounting in step with the route table, Run makes room by
// eviction.
type Budget struct {
	cfg      Config
	activity *route.Activity
	started  time.Time
	kick     chan struct{}

	mu       sync.Mutex
	members  map[string]member
	reserved map[string]int64 // admitted, starting
	sizes    map[string]int64
	slugs    map[string]string
	evicting map[string]int64
	failed   map[string]time.Time
	queue    []*waiter
	counts   Counts
}

// Counts are the budget's running totals, for /metrics.
type Counts struct {
	Admitted, Queued, Evicted, Refused int64
}

// New returns a budget over the activity tracker (idleness, requests in
// flight); Watch and Run start it.
func New(cfg Config, activity *route.Activity) *Budget {
	if cfg.MinIdle <= 0 {
		cfg.MinIdle = 5 * time.Second
	}
	if cfg.RetryFailed <= 0 {
		cfg.RetryFailed = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Budget{cfg: cfg, activity: activity, started: cfg.Now(), kick: make(chan struct{}, 1),
		members: map[string]member{}, reserved: map[string]int64{}, sizes: map[string]int64{},
		slugs: map[string]string{}, evicting: map[string]int64{}, failed: map[string]time.Time{}}
}

// holdsMemory says whether a tenant in a route state has containers up.
func holdsMemory(state string) bool {
	switch state {
	case domain.StateRunning, domain.StatePaused, domain.StatePassivating:
		return true
	}
	return false
}

// Watch subscribes the budget to the route table: a tenant counts while
// its route says it is running, paused or being stopped, and memory freed
// (a stop, a delete) lets the queue in at once.
func (b *Budget) Watch(routes *route.Routes) {
	for _, r := range routes.All() {
		b.routeChanged(r, true)
	}
	routes.Subscribe(b.routeChanged)
}

func (b *Budget) routeChanged(r route.Route, present bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if present {
		b.slugs[r.TenantID] = r.Slug
	}
	if !present {
		if w := b.waiterLocked(r.TenantID); w != nil {
			w.gone = true
			b.dropWaiterLocked(w)
			close(w.ready)
		}
	}
	if present && holdsMemory(r.State) {
		b.members[r.TenantID] = member{slug: r.Slug, state: r.State}
		if _, ok := b.sizes[r.TenantID]; !ok {
			b.signal() // Run sizes it
		}
		return
	}
	if !present {
		delete(b.sizes, r.TenantID)
		delete(b.slugs, r.TenantID)
	}
	delete(b.members, r.TenantID)
	b.admitLocked()
}

// Admit returns once the tenant may start: at once when it already holds
// memory (or is starting) or fits, else after idle tenants were put to
// sleep for it or memory was freed, in its place in the queue. release
// ends the reservation of a start (call it when the start has ended,
// whatever its outcome; a tenant that runs counts by its route). A tenant
// larger than the whole budget gets a *TooLargeError at once.
func (b *Budget) Admit(ctx context.Context, tenantID string) (release func(), err error) {
	bytes, err := b.size(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return b.AdmitBytes(ctx, tenantID, bytes)
}

// AdmitBytes is Admit with the tenant's limit already known (the
// reconciler has its stack at hand); the size is remembered.
func (b *Budget) AdmitBytes(ctx context.Context, tenantID string, bytes int64) (release func(), err error) {
	noop := func() {}
	b.mu.Lock()
	b.sizes[tenantID] = bytes
	if b.countedLocked(tenantID) {
		b.mu.Unlock()
		return noop, nil
	}
	if bytes > b.cfg.Bytes {
		b.counts.Refused++
		b.mu.Unlock()
		return nil, &TooLargeError{TenantID: tenantID, Bytes: bytes, Limit: b.cfg.Bytes}
	}
	w := b.waiterLocked(tenantID)
	if w == nil {
		if len(b.queue) == 0 && b.freeLocked() >= bytes {
			b.reserved[tenantID] = bytes
			b.counts.Admitted++
			b.mu.Unlock()
			return b.releaser(tenantID), nil
		}
		w = &waiter{tenantID: tenantID, bytes: bytes, since: b.cfg.Now(), ready: make(chan struct{})}
		b.queue = append(b.queue, w)
		b.counts.Queued++
		b.cfg.Logger.Info("start waits for memory", slog.String("tenant", b.slugs[tenantID]),
			slog.Int("place", len(b.queue)), slog.String("needs", MiB(bytes)))
	}
	w.callers++
	b.admitLocked()
	b.signal()
	b.mu.Unlock()
	select {
	case <-w.ready:
		if w.gone {
			return nil, ErrGone
		}
		return b.releaser(tenantID), nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready:
			// Let in as the caller left: the start is not made.
			if w.callers--; w.callers == 0 && !w.gone {
				delete(b.reserved, tenantID)
				b.admitLocked()
			}
		default:
			if w.callers--; w.callers == 0 {
				b.dropWaiterLocked(w)
				b.admitLocked()
			}
		}
		return nil, fmt.Errorf("wait for memory: %w", ctx.Err())
	}
}

func (b *Budget) releaser(tenantID string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if _, ok := b.reserved[tenantID]; ok {
				delete(b.reserved, tenantID)
				b.admitLocked()
			}
		})
	}
}

// Place is a tenant's place in the queue (1 is next) and the queue's
// length; ok is false when it is not waiting.
func (b *Budget) Place(tenantID string) (place, of int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, w := range b.queue {
		if w.tenantID == tenantID {
			return i + 1, len(b.queue), true
		}
	}
	return 0, len(b.queue), false
}

func (b *Budget) size(ctx context.Context, tenantID string) (int64, error) {
	b.mu.Lock()
	n, ok := b.sizes[tenantID]
	b.mu.Unlock()
	if ok {
		return n, nil
	}
	if b.cfg.Size == nil {
		return 0, fmt.Errorf("memory budget: no size of tenant %s", tenantID)
	}
	n, err := b.cfg.Size(ctx, tenantID)
	if err != nil {
		return 0, fmt.Errorf("memory limit of tenant %s: %w", tenantID, err)
	}
	b.mu.Lock()
	b.sizes[tenantID] = n
	b.mu.Unlock()
	return n, nil
}

func (b *Budget) countedLocked(tenantID string) bool {
	if _, ok := b.members[tenantID]; ok {
		return true
	}
	_, ok := b.reserved[tenantID]
	return ok
}

// usedLocked is what the tenants that hold memory or are starting add up to.
func (b *Budget) usedLocked() int64 {
	var used int64
	for id := range b.members {
		used += b.sizes[id]
	}
	for id, n := range b.reserved {
		if _, ok := b.members[id]; !ok {
			used += n
		}
	}
	return used
}

func (b *Budget) freeLocked() int64 { return b.cfg.Bytes - b.usedLocked() }

func (b *Budget) waiterLocked(tenantID string) *waiter {
	for _, w := range b.queue {
		if w.tenantID == tenantID {
			return w
		}
	}
	return nil
}

func (b *Budget) dropWaiterLocked(w *waiter) {
	for i, q := range b.queue {
		if q == w {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return
		}
	}
}

// admitLocked lets the head of the queue in while it fits: first come,
// first served, so a large tenant is not overtaken forever by small ones.
func (b *Budget) admitLocked() {
	for len(b.queue) > 0 {
		w := b.queue[0]
		if b.countedLocked(w.tenantID) {
			// Started by other means while it waited (a deploy pass).
		} else if b.freeLocked() >= w.bytes {
			b.reserved[w.tenantID] = w.bytes
			b.counts.Admitted++
		} else {
			b.signal()
			return
		}
		b.queue = b.queue[1:]
		close(w.ready)
	}
}

// signal wakes Run to make room (never blocks).
func (b *Budget) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}
