package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"appfactory/store"
)

// Dispatcher posts queued deliveries: it claims due ones with a lease,
// posts each with a timeout, and records the answer; a failed attempt is
// tried again after an exponential backoff, up to MaxAttempts.
type Dispatcher struct {
	DB     *store.DB
	Guard  *Guard
	Logger *slog.Logger
	// Interval is how often the queue is polled (default 2s); Wake
	// polls at once.
	Interval time.Duration
	// Timeout bounds one attempt, answer included (default 10s).
	Timeout time.Duration
	// Lease is how long a claimed delivery is the dispatcher's (default
	// a minute, well above Timeout).
	Lease time.Duration
	// Backoff is the wait after the first failed attempt, doubled after
	// each next one (default 30s), up to MaxBackoff (default 1h).
	Backoff, MaxBackoff time.Duration
	// MaxAttempts is how many attempts a delivery gets (default 8).
	MaxAttempts int
	// Parallel is how many deliveries are posted at once (default 4).
	Parallel int

	once   sync.Once
	wake   chan struct{}
	client *http.Client
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		dialer := &net.Dialer{Timeout: d.timeout(), Control: d.Guard.Control}
		d.client = &http.Client{
			// No proxy from the environment: the guard checks the
			// address actually dialled, which must be the hook's.
			Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext, ForceAttemptHTTP2: true,
				TLSHandshakeTimeout: d.timeout(), ResponseHeaderTimeout: d.timeout(),
				MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second},
			// A redirect is an answer, not a new address to post to.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
}

func orDefault(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

func (d *Dispatcher) timeout() time.Duration  { return orDefault(d.Timeout, 10*time.Second) }
func (d *Dispatcher) interval() time.Duration { return orDefault(d.Interval, 2*time.Second) }
func (d *Dispatcher) lease() time.Duration    { return orDefault(d.Lease, time.Minute) }

func (d *Dispatcher) maxAttempts() int {
	if d.MaxAttempts <= 0 {
		return 8
	}
	return d.MaxAttempts
}

func (d *Dispatcher) parallel() int {
	if d.Parallel <= 0 {
		return 4
	}
	return d.Parallel
}

// Wake makes the loop look at the queue now.
func (d *Dispatcher) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	tick := time.NewTicker(d.interval())
	defer tick.Stop()
	for {
		for ctx.Err() == nil {
			n, err := d.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.log().Warn("webhook deliveries", slog.Any("err", err))
			}
			if err != nil || n < d.parallel() {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-d.wake:
		}
	}
}

// RunOnce claims the due deliveries (at most Parallel) and posts them,
// returning how many it claimed.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.init()
	due, err := d.DB.ClaimWebhookDeliveries(ctx, d.lease(), d.parallel())
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(due))
	for i := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.deliver(ctx, &due[i])
		}()
	}
	wg.Wait()
	return len(due), errors.Join(errs...)
}

// deliver posts one delivery and records what came of it.
func (d *Dispatcher) deliver(ctx context.Context, dd *store.DueDelivery) error {
	o := d.post(ctx, dd)
	if !o.Delivered {
		if dd.Attempts < d.maxAttempts() {
			o.RetryAt = d.DB.Now().Add(d.backoff(dd.Attempts))
		}
		d.log().Warn("webhook delivery failed", slog.String("webhook", dd.WebhookID), slog.String("delivery", dd.ID),
			slog.String("event", dd.Event), slog.Int("attempt", dd.Attempts), slog.Int("status", o.Status),
			slog.String("err", o.Error), slog.Bool("retry", !o.RetryAt.IsZero()))
	}
	// The outcome is written even when serve is stopping, so that the
	// attempt is not lost with the lease.
	return d.DB.RecordWebhookAttempt(context.WithoutCancel(ctx), dd.ID, o)
}

// backoff is the wait after the attempt-th failed attempt.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	b, limit := orDefault(d.Backoff, 30*time.Second), orDefault(d.MaxBackoff, time.Hour)
	for i := 1; i < attempt && b < limit; i++ {
		b *= 2
	}
	return min(b, limit)
}

// excerptLimit is how much of an answer's body is kept.
const excerptLimit = 512

func (d *Dispatcher) post(ctx context.Context, dd *store.DueDelivery) store.DeliveryOutcome {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	body := []byte(dd.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dd.URL, bytes.NewReader(body))
	if err != nil {
		return store.DeliveryOutcome{Error: "bad URL: " + err.Error()}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return store.DeliveryOutcome{Error: "only http and https URLs receive webhooks"}
	}
	ts := strconv.FormatInt(d.DB.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "appfactory-webhooks/1")
	req.Header.Set("X-Appfactory-Event", dd.Event)
	req.Header.Set("X-Appfactory-Delivery", dd.ID)
	req.Header.Set("X-Appfactory-Timestamp", ts)
	req.Header.Set("X-Appfactory-Signature", Sign(dd.Secret, ts, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return store.DeliveryOutcome{Error: failure(err)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, excerptLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	o := store.DeliveryOutcome{Status: resp.StatusCode, Body: excerpt(b)}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		o.Delivered = true
	} else {
		o.Error = fmt.Sprintf("answered %d", resp.StatusCode)
	}
	return o
}

// failure says why an attempt got no answer, without the URL (which the
// delivery list shows beside it).
func failure(err error) string {
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner
		}
	}
	return err.Error()
}

// excerpt keeps valid UTF-8 text of an answer's start.
func excerpt(b []byte) string {
	// A cut in the middle of a character leaves an invalid tail, which
	// becomes one replacement character.
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}
