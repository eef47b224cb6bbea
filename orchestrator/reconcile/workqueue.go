package reconcile

import (
	"context"
	"sync"
)

// workQueue holds tenant ids waiting for a reconcile pass. An id is queued
// at most once; an id woken while a worker holds it is queued again when the
// worker is done, so a wake during a pass is never lost and one tenant is
// never worked on by two workers.
type workQueue struct {
	mu     sync.Mutex
	order  []string
	queued map[string]bool
	active map[string]bool
	again  map[string]bool
	ready  chan struct{} // one token per signal; workers recheck the queue
}

func newWorkQueue() *workQueue {
	return &workQueue{
		queued: map[string]bool{},
		active: map[string]bool{},
		again:  map[string]bool{},
		ready:  make(chan struct{}, 1),
	}
}

// add queues ids.
func (q *workQueue) add(ids ...string) {
	q.mu.Lock()
	for _, id := range ids {
		switch {
		case q.active[id]:
			q.again[id] = true
		case !q.queued[id]:
			q.queued[id] = true
			q.order = append(q.order, id)
		}
	}
	q.mu.Unlock()
	q.signal()
}

func (q *workQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// get waits for an id and marks it active; ok is false once ctx ends.
func (q *workQueue) get(ctx context.Context) (string, bool) {
	for {
		q.mu.Lock()
		if len(q.order) > 0 {
			id := q.order[0]
			q.order = q.order[1:]
			delete(q.queued, id)
			q.active[id] = true
			more := len(q.order) > 0
			q.mu.Unlock()
			if more {
				q.signal() // wake another worker for the rest
			}
			return id, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", false
		case <-q.ready:
		}
	}
}

// done releases an id, queueing it again if it was woken meanwhile.
func (q *workQueue) done(id string) {
	q.mu.Lock()
	delete(q.active, id)
	requeue := q.again[id]
	delete(q.again, id)
	q.mu.Unlock()
	if requeue {
		q.add(id)
	}
}

// len is the number of ids waiting.
func (q *workQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// keyedMutex serialises work per key (per tenant) and lets a waiter give up
// when its context ends.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	ch   chan struct{}
	refs int
}

func newKeyedMutex() *keyedMutex { return &keyedMutex{locks: map[string]*keyedLock{}} }

// lock takes the key's lock and returns its release.
func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
