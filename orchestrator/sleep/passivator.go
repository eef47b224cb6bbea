// Package sleep puts idle tenants to sleep and ends trials: the passivator
// pauses, then stops, tenants left idle, expires trials past their TTL and
// removes them after the grace, and extends a trial on request.
package sleep

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/store"
)

// sleeper puts tenants to sleep; the reconciler implements it.
type sleeper interface {
	Passivate(ctx context.Context, tenantID, reason string) error
	Pause(ctx context.Context, tenantID string) error
	// CanPause is false when the runtime has no pause tier.
	CanPause() bool
	Wake(tenantID string)
}

// sleepStore is what the passivator reads and writes in the database.
type sleepStore interface {
	SleepCandidates(ctx context.Context) ([]store.SleepCandidate, error)
	EnvSettings(ctx context.Context) (map[string]store.EnvSetting, error)
	TenantPolicies(ctx context.Context) (map[string]store.TenantPolicy, error)
	RecordAwake(ctx context.Context, batch []store.AwakeTime) error
	ExtendTenant(ctx context.Context, tenantID string, days int) (time.Time, string, error)
	SetTenantState(ctx context.Context, id, state, message string) error
	SetDesiredState(ctx context.Context, id, desired string) error
	AddEvent(ctx context.Context, tenantID, kind, message string) error
}

// SleepPolicy returns an environment's idle timeout (stop tier) and pause
// delay (pause tier); zero means never.
type SleepPolicy func(environment string) (idle, pause time.Duration)

// PassivatorConfig configures the passivator.
type PassivatorConfig struct {
	Policy SleepPolicy
	// IdleOverride, when positive, replaces the idle timeout of every
	// environment that has one (environments that never sleep, like
	// production, stay awake).
	IdleOverride time.Duration
	// PauseOverride, when zero or more, replaces the pause delay of every
	// environment that sleeps; zero turns the pause tier off. Negative
	// keeps each environment's own.
	PauseOverride time.Duration
	// ExpiredGrace is how long an expired trial is kept (stopped) before
	// it is removed (default 7 days).
	ExpiredGrace time.Duration
	// Interval between checks (default 1 s).
	Interval time.Duration
	// Concurrency bounds the tenants put to sleep at once (default 4).
	Concurrency int
	// Warm starts a sleeping tenant before any request, single-flight with
	// the router's activations, for the reason given; nil: keep-warm
	// windows only keep running tenants awake.
	Warm   func(tenantID, reason string)
	Now    func() time.Time
	Logger *slog.Logger
}

// Passivator puts idle tenants to sleep (pause, then stop) and ends expired
// trials. It reads idleness from Activity and route states from Routes, so
// that a check costs one small query however many tenants there are.
type Passivator struct {
	cfg      PassivatorConfig
	routes   *route.Routes
	activity *route.Activity
	sleeper  sleeper
	store    sleepStore
	started  time.Time
	sem      chan struct{}
	logger   *slog.Logger
	meter    *awakeMeter

	mu      sync.Mutex
	busy    map[string]bool
	expired map[string]bool   // expired by this process, so expiry is done once
	states  map[string]string // last route state seen, to notice wake-ups
}

// NewPassivator returns a passivator; Run starts it.
func NewPassivator(cfg PassivatorConfig, routes *route.Routes, activity *route.Activity, sl sleeper, st sleepStore) *Passivator {
	if cfg.ExpiredGrace <= 0 {
		cfg.ExpiredGrace = 7 * 24 * time.Hour
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Policy == nil {
		cfg.Policy = func(string) (time.Duration, time.Duration) { return 0, 0 }
	}
	p := &Passivator{cfg: cfg, routes: routes, activity: activity, sleeper: sl, store: st,
		started: cfg.Now(), sem: make(chan struct{}, cfg.Concurrency), logger: cfg.Logger, meter: newAwakeMeter(cfg.Interval),
		busy: make(map[string]bool), expired: make(map[string]bool), states: make(map[string]string)}
	routes.Subscribe(p.routeChanged)
	return p
}

// routeChanged gives a tenant that has just started (or resumed) a full
// idle period, however it was started: by a request, a button or a deploy.
// Re-setting a running route (a reconcile pass) is not activity.
func (p *Passivator) routeChanged(r route.Route, present bool) {
	p.mu.Lock()
	prev := p.states[r.TenantID]
	if present {
		p.states[r.TenantID] = r.State
	} else {
		delete(p.states, r.TenantID)
		delete(p.expired, r.TenantID)
	}
	p.mu.Unlock()
	switch {
	case !present:
		p.activity.Forget(r.TenantID)
	case r.State == domain.StateRunning && prev != domain.StateRunning:
		p.activity.Touch(r.TenantID)
	}
}

// awakeFlush is how often the awake time is written.
const awakeFlush = 10 * time.Second

// Run checks every interval until ctx ends, then waits for the actions in
// progress.
func (p *Passivator) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	flush := time.NewTicker(awakeFlush)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.meter.flush(fctx, p.store); err != nil {
				p.logger.Warn("record awake time on shutdown", slog.Any("err", err))
			}
			return nil
		case <-tick.C:
			if err := p.Check(ctx, &wg); err != nil && ctx.Err() == nil {
				p.logger.Warn("passivator check", slog.Any("err", err))
			}
		case <-flush.C:
			if err := p.meter.flush(ctx, p.store); err != nil && ctx.Err() == nil {
				p.logger.Warn("record awake time", slog.Any("err", err))
			}
		}
	}
}

// limits returns the effective idle timeout and pause delay of an
// environment, with the overrides and the admin's pause setting applied.
func (p *Passivator) limits(env string, settings map[string]store.EnvSetting) (idle, pause time.Duration) {
	idle, pause = p.cfg.Policy(env)
	if !p.sleeper.CanPause() {
		// The runtime has no pause tier: idle tenants are only stopped.
		pause = 0
	}
	if idle <= 0 {
		// An environment that never sleeps (production) is never paused
		// either by an override.
		return 0, pause
	}
	if p.cfg.IdleOverride > 0 {
		idle = p.cfg.IdleOverride
	}
	if p.cfg.PauseOverride >= 0 {
		pause = p.cfg.PauseOverride
	}
	if s, ok := settings[env]; ok && !s.PauseEnabled {
		pause = 0
	}
	if pause >= idle {
		pause = 0
	}
	return idle, pause
}

// Check looks at every tenant once and starts what has to be done; wg
// tracks the actions started.
func (p *Passivator) Check(ctx context.Context, wg *sync.WaitGroup) error {
	cands, err := p.store.SleepCandidates(ctx)
	if err != nil {
		return err
	}
	settings, err := p.store.EnvSettings(ctx)
	if err != nil {
		return err
	}
	policies, err := p.store.TenantPolicies(ctx)
	if err != nil {
		return err
	}
	now := p.cfg.Now()
	dt := p.meter.tick(now)
	for _, c := range cands {
		if exp := c.ExpiresAt.Time; !exp.IsZero() && now.After(exp) {
			switch {
			case c.State != domain.StateExpired && !p.wasExpired(c.ID):
				p.spawn(ctx, wg, c.ID, func(ctx context.Context) error { return p.expire(ctx, c, exp) })
			case now.After(exp.Add(p.cfg.ExpiredGrace)):
				p.spawn(ctx, wg, c.ID, func(ctx context.Context) error { return p.remove(ctx, c) })
			}
			continue
		}
		if c.DesiredState != domain.StateRunning {
			continue
		}
		rte, ok := p.routes.Get(c.Slug)
		if !ok {
			continue
		}
		d := p.activity.Idle(c.ID, now, p.started)
		if rte.State == domain.StateRunning {
			p.meter.add(c.ID, now, dt, d)
		}
		e := p.effective(c.Environment, settings, policies[c.ID], now)
		if e.InWindow {
			// Kept warm: never put to sleep, and started if it slept.
			if p.cfg.Warm != nil && (rte.State == domain.StatePassivated || rte.State == domain.StatePaused) {
				p.cfg.Warm(c.ID, "keep-warm window "+e.KeepWarm.String())
			}
			continue
		}
		if rte.State != domain.StateRunning && rte.State != domain.StatePaused {
			continue
		}
		idle, pause := e.Idle, e.Pause
		switch {
		case idle > 0 && d >= idle:
			p.spawn(ctx, wg, c.ID, func(ctx context.Context) error { return p.passivate(ctx, c, idle) })
		case pause > 0 && d >= pause && rte.State == domain.StateRunning:
			p.spawn(ctx, wg, c.ID, func(ctx context.Context) error { return p.pause(ctx, c, pause) })
		}
	}
	return nil
}

func (p *Passivator) wasExpired(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.expired[id]
}

// spawn runs one action per tenant at a time, a few tenants at once.
func (p *Passivator) spawn(ctx context.Context, wg *sync.WaitGroup, id string, fn func(context.Context) error) {
	p.mu.Lock()
	if p.busy[id] {
		p.mu.Unlock()
		return
	}
	p.busy[id] = true
	p.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.busy, id)
			p.mu.Unlock()
		}()
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-p.sem }()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			p.logger.Error("put tenant to sleep", slog.String("tenant", id), slog.Any("err", err))
		}
	}()
}

func (p *Passivator) passivate(ctx context.Context, c store.SleepCandidate, idle time.Duration) error {
	return p.sleepIfIdle(c, idle, func() error {
		p.logger.Info("passivating idle tenant", slog.String("tenant", c.Slug), slog.Duration("idle_timeout", idle))
		return p.sleeper.Passivate(ctx, c.ID, fmt.Sprintf("idle for %s", idle))
	})
}

func (p *Passivator) pause(ctx context.Context, c store.SleepCandidate, after time.Duration) error {
	return p.sleepIfIdle(c, after, func() error {
		p.logger.Info("pausing idle tenant", slog.String("tenant", c.Slug), slog.Duration("pause_after", after))
		return p.sleeper.Pause(ctx, c.ID)
	})
}

// sleepIfIdle stops or pauses (sleep) a tenant still idle for at least
// after: a request may have come while this waited for its turn.
func (p *Passivator) sleepIfIdle(c store.SleepCandidate, after time.Duration, sleep func() error) error {
	idle := func() bool { return p.activity.Idle(c.ID, p.cfg.Now(), p.started) >= after }
	if !idle() {
		return nil
	}
	_, err := p.outOfServiceThen(c.Slug, idle, sleep)
	return err
}

// outOfServiceThen takes a tenant's route out of service, looks once more
// (still), then puts the tenant to sleep. A request that began before the
// route changed keeps the tenant awake (still says no); one that begins
// after sees the route out of service and waits for the activation that
// follows (router.go), instead of reaching containers as they stop or
// freeze. The route goes back when still says no or sleep fails; done is
// false when nothing was put to sleep.
func (p *Passivator) outOfServiceThen(slug string, still func() bool, sleep func() error) (done bool, err error) {
	before, ok := p.takeOutOfService(slug)
	if !ok {
		return false, nil
	}
	if !still() {
		p.putBackInService(before)
		return false, nil
	}
	if err := sleep(); err != nil {
		p.putBackInService(before)
		return true, err
	}
	return true, nil
}

// takeOutOfService marks a running tenant's route as passivating, with no
// backends, and returns the route it replaced; false when the route is not
// running (anymore).
func (p *Passivator) takeOutOfService(slug string) (route.Route, bool) {
	var before route.Route
	changed := p.routes.Update(slug, func(r route.Route) (route.Route, bool) {
		if r.State != domain.StateRunning && r.State != domain.StatePaused {
			return r, false
		}
		before = r
		r.State = domain.StatePassivating
		r.Backends = nil
		return r, true
	})
	return before, changed
}

// putBackInService restores a route taken out of service, unless something
// else has published a route for the tenant since.
func (p *Passivator) putBackInService(before route.Route) {
	p.routes.Update(before.Slug, func(r route.Route) (route.Route, bool) {
		if r.State != domain.StatePassivating || r.Generation != before.Generation || r.TenantID != before.TenantID {
			return r, false
		}
		return before, true
	})
}

// setRouteState publishes a sleeping tenant's state in the route table.
func (p *Passivator) setRouteState(slug, state string) {
	if r, ok := p.routes.Get(slug); ok && r.State != state {
		r.State = state
		r.Backends = nil
		p.routes.Set(r)
	}
}
