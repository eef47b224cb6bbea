package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"appfactory/mail/mailtest"
	"appfactory/store"
)

// TestServeMailsThroughSMTP runs `appfactory serve --smtp-url` against a
// real SMTP server in the test process: a sign-up's confirmation mail is
// delivered by the relay loop serve starts, with a link to the portal that
// confirms the account.
func TestServeMailsThroughSMTP(t *testing.T) {
	smtpSrv := mailtest.Start(t, mailtest.Options{Username: "relay", Password: "relay-secret"})
	dir := t.TempDir()
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--smtp-url", smtpSrv.URL,
			"--mail-from", "Factory <noreply@example.com>"}, os.Stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	upAt := regexp.MustCompile(`appfactory is up at (http://\S+)/`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := upAt.FindStringSubmatch(stderr.String()); m != nil {
			base = strings.Replace(m[1], "localhost", "127.0.0.1", 1)
		} else if time.Now().After(deadline) {
			t.Fatalf("serve never came up:\n%s", stderr.String())
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	tok := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page(c.Get(base + "/signup")))
	if tok == nil {
		t.Fatal("no csrf token on /signup")
	}
	page(c.PostForm(base+"/signup", url.Values{"csrf_token": {tok[1]}, "name": {"Sam Smtp"}, "email": {"sam@example.com"},
		"company": {"Sam Co"}, "password": {"a long enough passw0rd"}}))

	got := smtpSrv.Wait(t, 1)[0]
	if got.To != "sam@example.com" || got.From != "noreply@example.com" || got.User != "relay" {
		t.Fatalf("arrived %+v", got)
	}
	link := regexp.MustCompile(`http://localhost:\d+/verify/[A-Za-z0-9_-]+`).FindString(got.Text)
	if link == "" {
		t.Fatalf("no link to the portal in:\n%s", got.Text)
	}
	page(c.Get(strings.Replace(link, "localhost", "127.0.0.1", 1)))
	if strings.Contains(stderr.String(), "relay-secret") {
		t.Error("the log shows the SMTP password")
	}
	cancel()
	<-done
	done <- nil // for the cleanup
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByEmail(context.Background(), "sam@example.com")
	if err != nil || !u.Verified() {
		t.Fatalf("after the link: %+v %v", u, err)
	}
	ms, _ := db.ListOutbox(context.Background(), 10)
	if len(ms) != 1 || ms[0].SentAt.IsZero() {
		t.Errorf("outbox %+v: want the one mail, sent", ms)
	}
}
