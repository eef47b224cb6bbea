package mail

import (
	"context"
	"log/slog"
	"time"

	"appfactory/apperr"
	"appfactory/store"
)

// Wanted reports whether u gets a mail of kind: security mail always,
// other mail unless the user turned it off or is disabled.
func Wanted(kind string, u *store.User) bool {
	return Security(kind) || (!u.MailOptOut && !u.Disabled)
}

// Notices finds tenants that crossed a notice's point (first running;
// trial ending in 3 days, in 1 day; trial ended) and mails the owner,
// recording each notice with its mail in one write, so that a restart
// never sends one twice.
type Notices struct {
	DB       *store.DB
	Composer *Composer
	// Every is the time between passes (default 15 s).
	Every time.Duration
	// OnNotice, when set, is called once per recorded notice (kind is a
	// store.Notice* kind), also when the owner gets no mail; for reporting
	// the same points elsewhere (webhooks). A process that stops between
	// the record and the call skips the call.
	OnNotice func(ctx context.Context, kind string, t *store.Tenant)
	// Sent is called after notices were mailed (the relay's Wake).
	Sent   func()
	Logger *slog.Logger
}

// Run makes a pass at once, then every Every, until ctx ends.
func (n *Notices) Run(ctx context.Context) error {
	every := n.Every
	if every <= 0 {
		every = 15 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := n.Pass(ctx); err != nil && ctx.Err() == nil {
			n.log().Warn("tenant notices", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass sends the notices due now and returns how many it recorded.
func (n *Notices) Pass(ctx context.Context) (int, error) {
	now := n.DB.Now()
	due, err := n.DB.DueNotices(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	recorded := 0
	for i := range due {
		d := &due[i]
		m, err := n.compose(ctx, d, now)
		if err != nil {
			return recorded, err
		}
		ok, err := n.DB.RecordNotice(ctx, d.Kind, &d.Tenant, m)
		if err != nil {
			return recorded, err
		}
		if !ok {
			continue
		}
		recorded++
		n.log().Info("tenant notice", slog.String("tenant", d.Tenant.ID), slog.String("kind", d.Kind), slog.Bool("mailed", m != nil))
		if n.OnNotice != nil {
			n.OnNotice(ctx, d.Kind, &d.Tenant)
		}
	}
	if recorded > 0 && n.Sent != nil {
		n.Sent()
	}
	return recorded, nil
}

// compose renders a notice's mail, nil when the owner gets none.
func (n *Notices) compose(ctx context.Context, d *store.DueNotice, now time.Time) (*store.OutboxMail, error) {
	owner, err := n.DB.UserByID(ctx, d.Tenant.OwnerID)
	if apperr.Code(err) == apperr.NotFound {
		return nil, nil // an owner gone: the notice is recorded, mailed to nobody
	}
	if err != nil {
		return nil, err
	}
	if !Wanted(d.Kind, owner) {
		return nil, nil
	}
	if d.Kind == store.NoticeReady {
		return n.Composer.Ready(owner, &d.Tenant)
	}
	return n.Composer.TrialNotice(d.Kind, owner, &d.Tenant, now)
}

func (n *Notices) log() *slog.Logger {
	if n.Logger == nil {
		return slog.Default()
	}
	return n.Logger
}
