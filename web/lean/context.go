package lean

import (
	"context"
	"sync"
	"time"
)

// requestContext is a lean request's context: cancelled when the client
// leaves (the watch) or the request ends. It costs one allocation, and
// context.AfterFunc on it (the router's way to fail a backend connection
// when its client leaves) registers in a slice rather than in a parent's
// map of children: most requests end long before anyone watches.
type requestContext struct {
	mu     sync.Mutex
	done   chan struct{} // made when first asked for
	err    error
	afters [2]afterFunc // AfterFuncs, in slots: a request registers one or two
	more   []*afterFunc
}

type afterFunc struct {
	c       *requestContext
	f       func()
	stopped bool
}

// stop is the AfterFunc's stop.
func (a *afterFunc) stop() bool {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	if a.stopped {
		return false
	}
	a.stopped = true
	return true
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *requestContext) Value(any) any               { return nil }

func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *requestContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// cancel ends the context; its AfterFuncs run, each in its goroutine.
func (c *requestContext) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	if c.done != nil {
		close(c.done)
	}
	for i := range c.afters {
		c.afters[i].run()
	}
	for _, a := range c.more {
		a.run()
	}
	c.mu.Unlock()
}

// run starts an AfterFunc not stopped (c.mu held).
func (a *afterFunc) run() {
	if a.f != nil && !a.stopped {
		a.stopped = true
		go a.f()
	}
}

// AfterFunc is what context.AfterFunc calls on a context that has it.
func (c *requestContext) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var a *afterFunc
	for i := range c.afters {
		if c.afters[i].f == nil {
			a = &c.afters[i]
			break
		}
	}
	if a == nil {
		a = &afterFunc{}
		c.more = append(c.more, a)
	}
	*a = afterFunc{c: c, f: f}
	if c.err != nil {
		a.run()
	}
	return a.stop
}
