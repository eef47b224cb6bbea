package sleep

import (
	"context"
	"time"

	"appfactory/store"
)

// DefaultPauseAfter is the pause delay of a tenant whose policy turns the
// pause tier on in an environment that has no pause delay of its own.
const DefaultPauseAfter = 5 * time.Minute

// Effective is how a tenant sleeps once its environment's defaults, the
// server's overrides and its own policy are applied.
type Effective struct {
	// Idle is the idle timeout; zero: never stopped.
	Idle time.Duration
	// Pause is the pause delay; zero: never paused.
	Pause time.Duration
	// KeepWarm is the tenant's windows; InWindow says whether now is in one.
	KeepWarm Windows
	InWindow bool
	// Own says which of idle, pause and keep-warm the tenant's own policy set.
	OwnIdle, OwnPause bool
}

// Effective returns how a tenant of an environment sleeps now under its
// own policy.
func (p *Passivator) Effective(ctx context.Context, env string, pol store.TenantPolicy) (Effective, error) {
	settings, err := p.store.EnvSettings(ctx)
	if err != nil {
		return Effective{}, err
	}
	return p.effective(env, settings, pol, p.cfg.Now()), nil
}

// effective applies a tenant's policy over its environment's limits. A
// keep-warm string that no longer reads (it was checked when stored)
// keeps no window.

func (p *Passivator) effective(env string, settings map[string]store.EnvSetting, pol store.TenantPolicy, now time.Time) Effective {
	idle, pause := p.limits(env, settings)
	e := Effective{Idle: idle, Pause: pause}
	if pol.Idle != nil {
		e.Idle, e.OwnIdle = *pol.Idle, true
	}
	switch pol.Pause {
	case store.PauseOff:
		e.Pause, e.OwnPause = 0, true
	case store.PauseOn:
		e.OwnPause = true
		if e.Pause == 0 {
			// The environment's own delay, though its tier is off.
			_, e.Pause = p.cfg.Policy(env)
			if p.cfg.PauseOverride > 0 {
				e.Pause = p.cfg.PauseOverride
			}
			if e.Pause <= 0 {
				e.Pause = DefaultPauseAfter
			}
		}
	}
	if !p.sleeper.CanPause() || (e.Idle > 0 && e.Pause >= e.Idle) {
		e.Pause = 0
	}
	if ws, err := ParseWindows(pol.KeepWarm); err == nil {
		e.KeepWarm = ws
		e.InWindow = ws.Contains(now)
	}
	return e
}
