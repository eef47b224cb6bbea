package router

import (
	"context"
	"errors"
)

// errStopped is the outcome of an activation asked for once Run has ended.
var errStopped = errors.New("router stopped")

// Run health-checks the backends of the running routes until ctx ends;
// activations and re-probes started meanwhile run under ctx too. When ctx
// ends it awaits all of them, then closes idle connections to the
// backends, and returns nil. A router serves requests without Run, but
// starts no sleeping tenant until Run begins.
func (rt *Router) Run(ctx context.Context) error {
	rt.mu.Lock()
	if rt.running {
		rt.mu.Unlock()
		return errors.New("router: Run called twice")
	}
	rt.running, rt.base = true, ctx
	rt.mu.Unlock()
	close(rt.started)

	rt.checkHealth(ctx)

	rt.mu.Lock()
	rt.stopped = true
	rt.mu.Unlock()
	rt.wg.Wait()
	rt.proxy.transport.CloseIdleConnections()
	rt.proxy.fast.closeAllIdle()
	return nil
}

// spawn runs fn in the background under Run's context, once Run has
// begun, and reports false (running nothing) once Run has ended.
func (rt *Router) spawn(fn func(base context.Context)) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		return false
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		<-rt.started // closed after base is set
		fn(rt.base)
	}()
	return true
}
