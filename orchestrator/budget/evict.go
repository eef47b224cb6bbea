package budget

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Run makes room for the queue until ctx ends: whenever tenants wait, it
// puts to sleep as many idle tenants as the queue needs, least recently
// used first, and sizes members it does not know yet. It also looks every
// second, since a tenant becomes idle without any event.
func (b *Budget) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.kick:
		case <-tick.C:
		}
		b.sizeMembers(ctx)
		b.makeRoom(ctx, &wg)
	}
}

// sizeMembers learns the limits of tenants found running (started before
// this process, or by a path that did not ask the budget).
func (b *Budget) sizeMembers(ctx context.Context) {
	b.mu.Lock()
	var unknown []string
	for id := range b.members {
		if _, ok := b.sizes[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	b.mu.Unlock()
	for _, id := range unknown {
		if _, err := b.size(ctx, id); err != nil && ctx.Err() == nil {
			b.cfg.Logger.Warn("memory budget: size of a running tenant", slog.String("tenant", id), slog.Any("err", err))
		}
	}
	if len(unknown) > 0 {
		b.mu.Lock()
		b.admitLocked()
		b.mu.Unlock()
	}
}

// Candidate is a tenant that may be put to sleep to make room.
type Candidate struct {
	TenantID string
	Bytes    int64
	Idle     time.Duration
}

// victims picks, from the members, the tenants to evict for need bytes:
// idle ones (no request in flight, idle at least MinIdle) in an
// environment that sleeps, neither queued nor starting nor already being
// evicted, longest idle first, and only as many as needed. It returns
// none when even all of them would not be enough for the head of the
// queue but some would help the others.
func (b *Budget) victimsLocked(need int64, evictable map[string]bool, now time.Time) []Candidate {
	var cands []Candidate
	for id := range b.members {
		if !evictable[id] || b.evicting[id] > 0 || b.waiterLocked(id) != nil {
			continue
		}
		if _, ok := b.reserved[id]; ok {
			continue
		}
		if t, ok := b.failed[id]; ok && now.Sub(t) < b.cfg.RetryFailed {
			continue
		}
		if b.activity.InFlight(id) > 0 {
			continue
		}
		idle := b.activity.Idle(id, now, b.started)
		if idle < b.cfg.MinIdle || b.sizes[id] <= 0 {
			continue
		}
		cands = append(cands, Candidate{TenantID: id, Bytes: b.sizes[id], Idle: idle})
	}
	slices.SortFunc(cands, func(a, c Candidate) int {
		if n := cmp.Compare(c.Idle, a.Idle); n != 0 {
			return n
		}
		return cmp.Compare(a.TenantID, c.TenantID)
	})
	var picked []Candidate
	for _, c := range cands {
		if need <= 0 {
			break
		}
		picked = append(picked, c)
		need -= c.Bytes
	}
	return picked
}

// needLocked is the memory the queue waits for beyond what is free and
// what evictions under way will free.
func (b *Budget) needLocked() int64 {
	var demand, freeing int64
	for _, w := range b.queue {
		demand += w.bytes
	}
	for _, n := range b.evicting {
		freeing += n
	}
	return demand - b.freeLocked() - freeing
}

func (b *Budget) makeRoom(ctx context.Context, wg *sync.WaitGroup) {
	if b.cfg.Evictor == nil {
		return
	}
	b.mu.Lock()
	need := b.needLocked()
	b.mu.Unlock()
	if need <= 0 {
		return
	}
	evictable, err := b.cfg.Evictor.Evictable(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.cfg.Logger.Warn("memory budget: evictable tenants", slog.Any("err", err))
		}
		return
	}
	now := b.cfg.Now()
	b.mu.Lock()
	picked := b.victimsLocked(b.needLocked(), evictable, now)
	var head string
	if len(b.queue) > 0 {
		head = b.slugs[b.queue[0].tenantID]
	}
	for _, c := range picked {
		b.evicting[c.TenantID] = c.Bytes
	}
	b.mu.Unlock()
	for _, c := range picked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.evict(ctx, c, head)
		}()
	}
}

func (b *Budget) evict(ctx context.Context, c Candidate, forSlug string) {
	b.mu.Lock()
	slug := b.slugs[c.TenantID]
	b.mu.Unlock()
	b.cfg.Logger.Info("evicting idle tenant for memory", slog.String("tenant", slug),
		slog.Duration("idle", c.Idle.Round(time.Second)), slog.String("frees", MiB(c.Bytes)), slog.String("for", forSlug))
	err := b.cfg.Evictor.Evict(ctx, c.TenantID, fmt.Sprintf("memory budget: idle for %s, room needed for %s", c.Idle.Round(time.Second), forSlug))
	b.mu.Lock()
	delete(b.evicting, c.TenantID)
	if err != nil {
		b.failed[c.TenantID] = b.cfg.Now()
	} else {
		delete(b.failed, c.TenantID)
		b.counts.Evicted++
	}
	b.admitLocked()
	b.signal()
	b.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		b.cfg.Logger.Warn("memory budget: eviction failed", slog.String("tenant", slug), slog.Any("err", err))
	}
}
