package budget

import (
	"cmp"
	"slices"
	"time"
)

// State is what the budget holds now, for the admin API and dashboard.
type State struct {
	Bytes   int64         `json:"budget_bytes"`
	Used    int64         `json:"used_bytes"`
	Members []MemberState `json:"members"`
	Queue   []QueueEntry  `json:"queue"`
	Counts  Counts        `json:"totals"`
}

// MemberState is one tenant that holds memory or is starting.
type MemberState struct {
	TenantID string `json:"tenant_id"`
	Slug     string `json:"slug"`
	// State is the route's (running, paused, passivating) or "starting".
	State    string  `json:"state"`
	Bytes    int64   `json:"memory_bytes"`
	IdleSecs float64 `json:"idle_seconds"`
	InFlight int64   `json:"requests_in_flight"`
	Evicting bool    `json:"evicting"`
}

// QueueEntry is one tenant waiting for memory, in queue order.
type QueueEntry struct {
	TenantID string    `json:"tenant_id"`
	Slug     string    `json:"slug"`
	Bytes    int64     `json:"memory_bytes"`
	Since    time.Time `json:"since"`
	Callers  int       `json:"waiting_requests"`
}

// Limit is the budget in bytes.
func (b *Budget) Limit() int64 { return b.cfg.Bytes }

// Snapshot returns the budget's state: members longest idle first.
func (b *Budget) Snapshot() State {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	st := State{Bytes: b.cfg.Bytes, Used: b.usedLocked(), Counts: b.counts,
		Members: []MemberState{}, Queue: []QueueEntry{}}
	for id, m := range b.members {
		st.Members = append(st.Members, MemberState{TenantID: id, Slug: m.slug, State: m.state, Bytes: b.sizes[id],
			IdleSecs: b.activity.Idle(id, now, b.started).Seconds(), InFlight: b.activity.InFlight(id), Evicting: b.evicting[id] > 0})
	}
	for id, n := range b.reserved {
		if _, ok := b.members[id]; !ok {
			st.Members = append(st.Members, MemberState{TenantID: id, Slug: b.slugs[id], State: "starting", Bytes: n,
				InFlight: b.activity.InFlight(id)})
		}
	}
	slices.SortFunc(st.Members, func(a, c MemberState) int {
		if n := cmp.Compare(c.IdleSecs, a.IdleSecs); n != 0 {
			return n
		}
		return cmp.Compare(a.Slug, c.Slug)
	})
	for _, w := range b.queue {
		st.Queue = append(st.Queue, QueueEntry{TenantID: w.tenantID, Slug: b.slugs[w.tenantID], Bytes: w.bytes, Since: w.since, Callers: w.callers})
	}
	return st
}
