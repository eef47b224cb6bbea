// Package ready probes whether a tenant's service answers: the reconciler
// waits on it after a start, the router's health checks probe backends with it.
package ready

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Prober waits for an HTTP endpoint to answer. A connection attempted before
// a container's network is up is silently dropped and the kernel retries the
// SYN only after a second, so each attempt dials with a short connect timeout
// and a fresh attempt follows a timeout, never one long-blocking dial.
type Prober struct {
	Interval       time.Duration // wait after the first failed attempt
	MaxInterval    time.Duration // the wait grows by half each attempt up to this
	DialTimeout    time.Duration // connect timeout of one attempt
	RequestTimeout time.Duration // whole timeout of one attempt once connected
	// Dial connects to the backend; nil is net.Dialer's (a runtime.Dialer
	// where the host has no route to the replicas).
	Dial DialFunc
}

// DialFunc connects to a backend address, as net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Bounded is dial (net.Dialer's when nil) with a connect timeout and,
// when dial is nil, TCP keep-alives every keepAlive.
func Bounded(dial DialFunc, timeout, keepAlive time.Duration) DialFunc {
	if dial == nil {
		return (&net.Dialer{Timeout: timeout, KeepAlive: keepAlive}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return dial(ctx, network, addr)
	}
}

// DefaultProber probes every 10 ms at first, backing off to 200 ms, with a
// 30 ms connect timeout.
func DefaultProber() Prober {
	return Prober{Interval: 10 * time.Millisecond, MaxInterval: 200 * time.Millisecond, DialTimeout: 30 * time.Millisecond, RequestTimeout: 2 * time.Second}
}

// WaitReady probes url with DefaultProber until it answers below 500 or ctx ends.
func WaitReady(ctx context.Context, url string) error {
	return DefaultProber().Wait(ctx, url)
}

// Wait probes url until any HTTP answer below 500 (a 404 still shows the
// server is up) or until ctx ends, which returns the last attempt's error.
func (p Prober) Wait(ctx context.Context, url string) error {
	tr := &http.Transport{
		Proxy:             nil, // container addresses are never proxied
		DialContext:       Bounded(p.Dial, p.DialTimeout, 0),
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport: tr,
		Timeout:   p.RequestTimeout,
		// A redirect is an answer: the server is up.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if _, err := http.NewRequest(http.MethodGet, url, nil); err != nil {
		return fmt.Errorf("wait for %s: %w", url, err)
	}
	interval := p.Interval
	var last error
	for {
		status, err := ProbeOnce(ctx, hc, url)
		if err == nil && status < 500 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("status %d", status)
		}
		last = err
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for %s: %w (last attempt: %w)", url, ctx.Err(), last)
		case <-t.C:
		}
		if interval = interval * 3 / 2; interval > p.MaxInterval {
			interval = p.MaxInterval
		}
	}
}

// ProbeOnce makes one GET of url with hc and returns its status code.
func ProbeOnce(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp.StatusCode, nil
}
