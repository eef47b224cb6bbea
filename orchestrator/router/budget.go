package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"appfactory/orchestrator/route"
)

// admitter is the host's memory budget (orchestrator/budget): a start
// waits in its queue until the tenant's memory limit fits.
type admitter interface {
	// Admit returns once the tenant may start; release ends the
	// reservation of the start.
	Admit(ctx context.Context, tenantID string) (release func(), err error)
	// Place is the tenant's place in the queue and the queue's length.
	Place(tenantID string) (place, of int, ok bool)
}

// userMessager is an error with a message fit for the starting page (the
// budget's refusal of a tenant larger than the whole budget).
type userMessager interface{ UserMessage() string }

// admit waits for the memory budget before a flight starts the tenant;
// the wait is outside the activation timeout, which bounds the start.
// Without a budget it admits at once.
func (rt *Router) admit(base context.Context, rte route.Route) (release func(), err error) {
	if rt.cfg.Budget == nil {
		return func() {}, nil
	}
	release, err = rt.cfg.Budget.Admit(base, rte.TenantID)
	if err != nil {
		return func() {}, fmt.Errorf("activate %s: %w", rte.Slug, err)
	}
	return release, nil
}

// queued reports a tenant's place in the memory budget's queue.
func (rt *Router) queued(tenantID string) (place, of int, ok bool) {
	if rt.cfg.Budget == nil {
		return 0, 0, false
	}
	return rt.cfg.Budget.Place(tenantID)
}

// waitMessage is the starting page's line for a tenant waiting for memory.
func waitMessage(place, of int) string {
	return fmt.Sprintf("Waiting for memory: place %d of %d. The host is full; the app starts as soon as others go to sleep.", place, of)
}

// budgetStatus is the status of a flight the budget holds or refused.
func (rt *Router) budgetStatus(rte route.Route, f *flight) (Status, bool) {
	if f.finished() {
		var um userMessager
		if f.err != nil && errors.As(f.err, &um) {
			return Status{Failed: true, State: "refused", Message: um.UserMessage()}, true
		}
		return Status{}, false
	}
	return rt.queuedStatus(rte)
}

// queuedStatus is the status of a tenant waiting in the budget's queue.
func (rt *Router) queuedStatus(rte route.Route) (Status, bool) {
	place, of, ok := rt.queued(rte.TenantID)
	if !ok {
		return Status{}, false
	}
	return Status{State: "queued", Message: waitMessage(place, of), Place: place, QueueLength: of}, true
}

// refusedByBudget answers a request for a tenant the budget refused (its
// limit exceeds the whole budget) with the reason.
func (rt *Router) refusedByBudget(w http.ResponseWriter, r *http.Request, rte route.Route) bool {
	f := rt.flights.get(rte.TenantID)
	if f == nil || !f.finished() {
		return false
	}
	var um userMessager
	if f.err == nil || !errors.As(f.err, &um) {
		return false
	}
	rt.cfg.Pages.Error(w, r, http.StatusServiceUnavailable, "This app cannot be started on this host", um.UserMessage())
	return true
}

// waitOutcome is how a held request's wait for its flight ended.
type waitOutcome int

const (
	flightDone waitOutcome = iota
	requestGone
	waitTimedOut
)

// awaitFlight holds a request until its flight ends. The timeout counts
// only while the tenant is not waiting in the memory budget's queue: a
// held API request keeps its place however long the queue takes.
func (rt *Router) awaitFlight(ctx context.Context, f *flight, tenantID string, wait time.Duration) waitOutcome {
	t := time.NewTimer(wait)
	defer t.Stop()
	// wasQueued: the start was in the queue at the last tick. It left it
	// since, maybe just before this tick: the start gets a whole wait from
	// about then, not what was left of the period it left in.
	wasQueued := false
	for {
		select {
		case <-f.done:
			return flightDone
		case <-ctx.Done():
			return requestGone
		case <-t.C:
			_, _, queued := rt.queued(tenantID)
			if queued || wasQueued {
				wasQueued = queued
				t.Reset(wait)
				continue
			}
			return waitTimedOut
		}
	}
}
