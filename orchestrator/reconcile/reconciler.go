// Package reconcile keeps Docker in step with the database: level-triggered,
// idempotent passes per tenant (build, network, volumes, containers,
// readiness, routes), pause and resume, deletes and the orphan sweep. It is
// the only writer of tenant Docker objects, and drives the engine through
// runtime.Runtime alone.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/ready"
	"appfactory/orchestrator/route"
	"appfactory/orchestrator/runtime"
	"appfactory/orchestrator/stack"
	"appfactory/store"

	// Blueprints says what a tenant is made of: the input of its image build
	// and its stack. The catalog-backed implementation is orchestrator.CatalogBlueprints.
	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/metrics"
)

type Blueprints interface {
	// BuildInput is what the tenant's image is built from.
	BuildInput(ctx context.Context, t *store.Tenant) (factory.BuildInput, error)
	// Stack is the tenant's desired Docker objects; p carries the names,
	// labels and subnet, the blueprint adds image, limits and route.
	Stack(ctx context.Context, t *store.Tenant, p stack.StackParams) (*stack.TenantStack, error)
}

// ReconcilerOptions configure a Reconciler. DB, Runtime, Blueprints and
// Routes are required.
type ReconcilerOptions struct {
	DB         *store.DB
	Runtime    runtime.Runtime
	Blueprints Blueprints
	Routes     *route.Routes
	// Workers bounds how many tenants are reconciled at once (default 4).
	Workers int
	// Resync is the period of the full comparison (default 10 s).
	Resync time.Duration
	// OrphanGrace is how long an object of no tenant is left before removal (default 30 s).
	OrphanGrace time.Duration
	// ReadyTimeout bounds waiting for health and readiness (default 60 s).
	ReadyTimeout time.Duration
	// MaxFailures is how many failed passes in a row mark a tenant failed (default 3).
	MaxFailures int
	// Labels are added to every object created (tests mark theirs).
	Labels map[string]string
	// Failpoint, when set, is called at named points of a pass ("after-network",
	// "after-container:web-1", "before-remove-volume", ...): crash tests stop
	// the reconciler there.
	Failpoint func(name string)
	// Ready probes a URL until it answers (default ready.WaitReady).
	Ready func(ctx context.Context, url string) error
	// Budget is the host's memory budget every start waits for (optional).
	Budget Admission
	// Archives opens backups for restores and rollbacks (optional: without
	// it restores asked for wait).
	Archives Archives
	// Metrics counts builds and times passes (optional).
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// Reconciler keeps Docker in step with the tenants table: the database holds
// what each tenant should be, Docker what it is (found by labels), and each
// pass acts on the difference, idempotently. It is the only writer of
// tenant Docker objects.
type Reconciler struct {
	opts    ReconcilerOptions
	db      *store.DB
	rt      runtime.Runtime
	factory *factory.Factory
	routes  *route.Routes
	log     *slog.Logger
	queue   *workQueue
	locks   *keyedMutex
	images  *imageHolds
	// wakeAll asks Run for a pass of every tenant (Wake("")); one pending
	// request stands for any number, so a send never blocks.
	wakeAll chan struct{}

	mu sync.Mutex
	// notBefore holds back periodic retries of a failing tenant (backoff).
	notBefore map[string]time.Time
	// converged remembers, per tenant, what the last successful pass left.
	converged map[string]convergedState
	// orphanSeen is when each object of no tenant was first seen.
	orphanSeen map[string]time.Time
}

// convergedState is what a successful pass left, for the cheap periodic check.
type convergedState struct {
	generation int64
	containers int
	mode       runtime.Mode
}

// NewReconciler returns a reconciler; Run starts it.
func NewReconciler(o ReconcilerOptions) (*Reconciler, error) {
	if o.DB == nil || o.Runtime == nil || o.Blueprints == nil || o.Routes == nil {
		return nil, fmt.Errorf("reconciler: DB, Runtime, Blueprints and Routes are required")
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Resync <= 0 {
		o.Resync = 10 * time.Second
	}
	if o.OrphanGrace <= 0 {
		o.OrphanGrace = 30 * time.Second
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 3
	}
	if o.Ready == nil {
		o.Ready = ready.WaitReady
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	f := factory.NewFactory(o.Runtime)
	f.Labels = o.Labels
	return &Reconciler{
		opts:       o,
		db:         o.DB,
		rt:         o.Runtime,
		factory:    f,
		routes:     o.Routes,
		log:        o.Logger.With(slog.String("component", "reconciler")),
		queue:      newWorkQueue(),
		locks:      newKeyedMutex(),
		notBefore:  map[string]time.Time{},
		converged:  map[string]convergedState{},
		images:     newImageHolds(),
		orphanSeen: map[string]time.Time{},
		wakeAll:    make(chan struct{}, 1),
	}, nil
}

// Factory is the reconciler's image factory (for previews).
func (r *Reconciler) Factory() *factory.Factory { return r.factory }

// Run reconciles until ctx is cancelled: every tenant once at start (which
// also fills the route table from Docker's actual state), then each woken
// tenant, and all of them every Resync period. It returns nil on cancel.
func (r *Reconciler) Run(ctx context.Context) error {
	if n, err := r.db.InterruptBuilds(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started: nothing to report
		}
		return fmt.Errorf("reconciler: %w", err)
	} else if n > 0 {
		r.log.Info("builds interrupted by the last stop marked failed", slog.Int("builds", n))
	}
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(ctx)
		}()
	}
	r.queueAll(ctx)
	t := time.NewTicker(r.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
			if err := r.resync(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("periodic resync", slog.Any("err", err))
			}
		case <-r.wakeAll:
			r.queueAll(ctx)
		}
	}
}

// Wake schedules a pass for one tenant now ("" for every tenant, which
// Run's loop lists and queues; once Run has returned it does nothing).
func (r *Reconciler) Wake(tenantID string) {
	if tenantID == "" {
		select {
		case r.wakeAll <- struct{}{}:
		default: // a request is already pending: it covers this one
		}
		return
	}
	r.mu.Lock()
	delete(r.notBefore, tenantID)
	r.mu.Unlock()
	r.queue.add(tenantID)
}

// queueAll queues a pass of every tenant.
func (r *Reconciler) queueAll(ctx context.Context) {
	ts, err := r.db.TenantsForReconcile(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("list tenants", slog.Any("err", err))
		}
		return
	}
	ids := make([]string, len(ts))
	for i := range ts {
		ids[i] = ts[i].ID
	}
	r.queue.add(ids...)
}

func (r *Reconciler) worker(ctx context.Context) {
	for {
		id, ok := r.queue.get(ctx)
		if !ok {
			return
		}
		_ = r.reconcileNow(ctx, id)
		r.queue.done(id)
	}
}

// reconcileNow runs one pass for a tenant under its lock and records the
// outcome: failures are counted, retried with backoff, and shown as the
// failed state once they persist.
func (r *Reconciler) reconcileNow(ctx context.Context, id string) (err error) {
	return r.reconcileWith(ctx, id, nil)
}

// reconcileWith is reconcileNow with a change of the desired state made
// under the tenant's lock first (prep), so that an Activate and a Passivate
// racing each other each run the pass of their own wish: the last one to
// take the lock decides, and its pass acts on it.
func (r *Reconciler) reconcileWith(ctx context.Context, id string, prep func(context.Context) error) (err error) {
	unlock, err := r.locks.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if prep != nil {
		if err := prep(ctx); err != nil {
			return err
		}
	}
	defer func() {
		if p := recover(); p != nil {
			if ctx.Err() != nil {
				err = ctx.Err() // stopped at a failpoint: the pass just ends
				return
			}
			r.log.Error("reconcile panicked", slog.String("tenant", id), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("reconcile panicked: %v", p)
			r.recordFailure(ctx, id, err)
		}
	}()
	t, err := r.db.TenantByID(ctx, id)
	if apperr.Code(err) == apperr.NotFound {
		return nil // its objects, if any, are orphans for the sweep
	}
	if err != nil {
		return err
	}
	start := time.Now()
	err = r.reconcileTenant(ctx, t)
	r.opts.Metrics.ObserveReconcile(time.Since(start))
	if err != nil {
		if ctx.Err() == nil {
			r.recordFailure(ctx, id, err)
			r.checkUpgrade(ctx, t, err)
		}
		return err
	}
	r.checkUpgrade(ctx, t, nil)
	if t.Failures > 0 {
		if e := r.db.SetTenantFailures(ctx, id, 0); e != nil {
			r.log.Warn("reset failures", slog.String("tenant", t.Slug), slog.Any("err", e))
		}
	}
	r.log.Debug("reconciled", slog.String("tenant", t.Slug), slog.Duration("took", time.Since(start)))
	return nil
}

// recordFailure counts a failed pass, records it, schedules a retry with
// backoff and, when failures persist (or cannot pass by retrying alone),
// shows the tenant as failed with the reason.
func (r *Reconciler) recordFailure(ctx context.Context, id string, cause error) {
	t, err := r.db.TenantByID(ctx, id)
	if err != nil {
		return
	}
	n := t.Failures + 1
	reason := failureReason(cause)
	r.log.Warn("reconcile failed", slog.String("tenant", t.Slug), slog.Int("failures", n), slog.Any("err", cause))
	_ = r.db.SetTenantFailures(ctx, id, n)
	_ = r.db.AddEvent(ctx, id, domain.EventError, fmt.Sprintf("Attempt %d failed: %s", n, reason))
	if (n >= r.opts.MaxFailures || permanent(cause)) && t.DesiredState != domain.DesiredDeleted {
		_ = r.db.SetTenantState(ctx, id, domain.StateFailed, reason)
		r.setRoute(t, domain.StateFailed, nil, "")
	}
	delay := backoff(n)
	r.mu.Lock()
	r.notBefore[id] = time.Now().Add(delay)
	delete(r.converged, id)
	r.mu.Unlock()
	time.AfterFunc(delay, func() {
		if ctx.Err() == nil {
			r.queue.add(id)
		}
	})
}

// backoff is the wait before retry n: 1 s doubling to at most 5 min.
func backoff(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// permanent reports failures that a retry alone will not fix: a build that
// failed, an invalid assembly, a missing platform image.
func permanent(err error) bool {
	var be *runtime.BuildError
	if errors.As(err, &be) {
		return true
	}
	switch apperr.Code(err) {
	case apperr.Invalid, apperr.Unprocessable, apperr.Unavailable:
		return true
	}
	return false
}

// failureReason is what the tenant's owner reads about a failure: the
// step that failed and, for errors meant to be shown, why.
func failureReason(err error) string {
	var be *runtime.BuildError
	if errors.As(err, &be) {
		return "The image build failed: " + be.Msg
	}
	var se *runtime.StepError
	if errors.As(err, &se) {
		return se.Step
	}
	if apperr.Code(err) != apperr.Internal {
		return apperr.Message(err)
	}
	return "An internal error occurred; it is retried."
}

// failpoint calls the test hook, if any.
func (r *Reconciler) failpoint(name string) {
	if r.opts.Failpoint != nil {
		r.opts.Failpoint(name)
	}
}

// event records an event of a tenant; a failure to record is logged only.
func (r *Reconciler) event(ctx context.Context, tenantID, kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if err := r.db.AddEvent(ctx, tenantID, kind, msg); err != nil && ctx.Err() == nil {
		r.log.Warn("record event", slog.String("tenant", tenantID), slog.Any("err", err))
	}
}
