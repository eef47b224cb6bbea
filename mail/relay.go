package mail

import (
	"context"
	"log/slog"
	netmail "net/mail"
	"time"

	"appfactory/store"
)

// Sender delivers one message; SMTP is the real one.
type Sender interface {
	Send(ctx context.Context, from, to string, body []byte) error
}

// Relay sends the outbox: it claims a due mail under a lease, sends it,
// and marks it sent. A relay that dies between claim and mark leaves the
// mail to be claimed again once the lease ran out, so a restart loses no
// mail (a mail whose sending had completed when the process died may go
// out twice: SMTP offers no way to ask whether it arrived).
type Relay struct {
	DB     *store.DB
	Sender Sender
	// From is the sender address ("appfactory <noreply@example.com>").
	From string
	// Lease is how long a claim holds (default 5 minutes: longer than a send's timeout).
	Lease time.Duration
	// Poll is how often the outbox is looked at when nothing woke the relay (default 2 s).
	Poll time.Duration
	// Attempts is how many sends are tried before a mail is given up (default 8);
	// a server's 5xx refusal gives up at once.
	Attempts int
	// Backoff is the wait after the n-th failed attempt (default 30 s·2ⁿ⁻¹, at most an hour).
	Backoff func(n int) time.Duration
	// Keep is how long sent and given-up mails stay in the outbox (default 30 days).
	Keep   time.Duration
	Logger *slog.Logger

	wake chan struct{}
}

// NewRelay returns a relay with the defaults filled in.
func NewRelay(r Relay) *Relay {
	if r.Lease <= 0 {
		r.Lease = 5 * time.Minute
	}
	if r.Poll <= 0 {
		r.Poll = 2 * time.Second
	}
	if r.Attempts <= 0 {
		r.Attempts = 8
	}
	if r.Backoff == nil {
		r.Backoff = func(n int) time.Duration { return min(30*time.Second<<min(n-1, 10), time.Hour) }
	}
	if r.Keep <= 0 {
		r.Keep = 30 * 24 * time.Hour
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	r.wake = make(chan struct{}, 1)
	return &r
}

// Wake makes the relay look at the outbox now (after an enqueue).
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	claim := store.NewID()
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	var pruned time.Time
	for {
		if now := r.DB.Now(); now.Sub(pruned) >= time.Hour {
			pruned = now
			if err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				r.Logger.Warn("prune the outbox", slog.Any("err", err))
			}
		}
		for {
			sent, err := r.SendOne(ctx, claim)
			if err != nil {
				r.Logger.Warn("mail relay", slog.Any("err", err))
			}
			if !sent || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Prune deletes the sent and given-up mails older than Keep.
func (r *Relay) Prune(ctx context.Context) error {
	n, err := r.DB.PruneOutbox(ctx, r.DB.Now().Add(-r.Keep))
	if n > 0 {
		r.Logger.Info("outbox pruned", slog.Int64("mails", n))
	}
	return err
}

// SendOne claims one due mail and tries to send it; it reports whether
// there was one.
func (r *Relay) SendOne(ctx context.Context, claim string) (bool, error) {
	m, err := r.DB.ClaimMail(ctx, claim, r.Lease)
	if err != nil || m == nil {
		return false, err
	}
	log := r.Logger.With(slog.String("mail", m.ID), slog.String("kind", m.Kind))
	body, err := Message(r.From, m, r.DB.Now())
	if err == nil {
		// A send under way finishes (within the sender's timeout) even
		// when ctx ends: cut off after the data, it would have arrived
		// without being marked sent, and go out again after a restart.
		err = r.Sender.Send(context.WithoutCancel(ctx), envelopeFrom(r.From), m.To, body)
	}
	if err == nil {
		ok, err := r.DB.MarkMailSent(context.WithoutCancel(ctx), m.ID, claim)
		if err != nil {
			return true, err
		}
		if !ok {
			log.Warn("mail sent after its lease ran out: another relay may send it again")
		}
		log.Info("mail sent", slog.Int("attempt", m.Attempts))
		return true, nil
	}
	giveUp := Permanent(err) || m.Attempts >= r.Attempts
	next := r.DB.Now().Add(r.Backoff(m.Attempts))
	log.Warn("mail not sent", slog.Int("attempt", m.Attempts), slog.Bool("given_up", giveUp), slog.Any("err", err))
	return true, r.DB.RetryMail(context.WithoutCancel(ctx), m.ID, claim, err.Error(), next, giveUp)
}

// envelopeFrom is the bare address of a From header ("Name <a@b>" -> "a@b").
func envelopeFrom(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}
