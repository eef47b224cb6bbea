package mail_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"appfactory/mail"
	"appfactory/mail/mailtest"
	"appfactory/store"
)

// testDB opens a store in dir with a clock moved by the returned offset.
func testDB(t *testing.T, dir string, offset *atomic.Int64) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(offset.Load())) }
	t.Cleanup(func() { db.Close() })
	return db
}

func composer() *mail.Composer {
	return &mail.Composer{Portal: "https://factory.example.com", Key: []byte("k"),
		TenantURL: func(slug string) string { return "https://" + slug + ".apps.example.com/" }}
}

func testUser(t *testing.T, db *store.DB, email string) *store.User {
	t.Helper()
	u := &store.User{Email: email, Name: "Pia Prospect", PasswordHash: "x"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func enqueue(t *testing.T, db *store.DB, u *store.User) *store.OutboxMail {
	t.Helper()
	m, err := composer().Invite(u, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts mailtest.Options
	}{
		{"plain", mailtest.Options{}},
		{"plain with auth", mailtest.Options{Username: "relay", Password: "s3cret"}},
		{"starttls with auth", mailtest.Options{TLS: true, Username: "relay", Password: "s3cret"}},
		{"implicit tls", mailtest.Options{Implicit: true, Username: "relay", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.opts)
			var off atomic.Int64
			db := testDB(t, t.TempDir(), &off)
			u := testUser(t, db, "pia@example.com")
			m := enqueue(t, db, u)
			s, err := mail.ParseURL(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			s.TLS = srv.ClientTLS
			r := mail.NewRelay(mail.Relay{DB: db, Sender: s, From: "appfactory <noreply@example.com>"})
			if sent, err := r.SendOne(context.Background(), "c1"); !sent || err != nil {
				t.Fatalf("SendOne = %v, %v", sent, err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages arrived, want 1", len(got))
			}
			g := got[0]
			if g.To != "pia@example.com" || g.From != "noreply@example.com" || g.Subject != m.Subject {
				t.Errorf("arrived from %q to %q subject %q", g.From, g.To, g.Subject)
			}
			if g.TLS != (tc.opts.TLS || tc.opts.Implicit) || g.User != tc.opts.Username {
				t.Errorf("tls %v user %q, want %v %q", g.TLS, g.User, tc.opts.TLS || tc.opts.Implicit, tc.opts.Username)
			}
			if !strings.Contains(g.Text, "https://factory.example.com/invite/tok") || !strings.Contains(g.HTML, `href="https://factory.example.com/invite/tok"`) {
				t.Errorf("the parts lack the link:\n%s\n%s", g.Text, g.HTML)
			}
			if h := g.Header.Get("List-Unsubscribe"); h != "<"+m.Unsubscribe+">" || g.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe %q", h)
			}
			stored, _ := db.MailByID(context.Background(), m.ID)
			if stored.SentAt.IsZero() {
				t.Error("the mail is not marked sent")
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	for _, bad := range []string{"http://x", "smtp://", "smtp://host:0", "smtp://host:x", "://"} {
		if _, err := mail.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
	s, err := mail.ParseURL("smtps://me:p%40ss@mail.example.com")
	if err != nil || !s.Implicit || s.Port != "465" || s.Password != "p@ss" || s.Redacted() != "smtps://me@mail.example.com:465" {
		t.Errorf("ParseURL = %+v, %v", s, err)
	}
}

// A relay that claimed a mail and died before sending it (or before marking
// it sent) leaves it to the next process, which sends it once the lease ran
// out, and only once.
func TestRestartBetweenEnqueueAndSendDeliversOnce(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	dir := t.TempDir()
	var off atomic.Int64
	ctx := context.Background()
	first := testDB(t, dir, &off)
	u := testUser(t, first, "pia@example.com")
	m := enqueue(t, first, u)
	// The first process claims the mail, then dies.
	if c, err := first.ClaimMail(ctx, "dead", time.Minute); err != nil || c == nil || c.ID != m.ID {
		t.Fatalf("claim = %v, %v", c, err)
	}
	first.Close()

	second := testDB(t, dir, &off)
	s, _ := mail.ParseURL(srv.URL)
	r := mail.NewRelay(mail.Relay{DB: second, Sender: s, From: "noreply@example.com", Lease: time.Minute})
	if sent, err := r.SendOne(ctx, "live"); sent || err != nil {
		t.Fatalf("a leased mail was claimed again: %v, %v", sent, err)
	}
	off.Add(int64(2 * time.Minute))
	if sent, err := r.SendOne(ctx, "live"); !sent || err != nil {
		t.Fatalf("after the lease: SendOne = %v, %v", sent, err)
	}
	if sent, err := r.SendOne(ctx, "live"); sent || err != nil {
		t.Fatalf("a sent mail was claimed again: %v, %v", sent, err)
	}
	// The dead process's late "sent" changes nothing.
	if ok, _ := second.MarkMailSent(ctx, m.ID, "dead"); ok {
		t.Error("a lost lease marked the mail sent")
	}
	if got := srv.Messages(); len(got) != 1 {
		t.Fatalf("%d messages arrived, want exactly 1", len(got))
	}
	// A month later the sent mail is pruned; one still to send is kept.
	waiting := enqueue(t, second, u)
	off.Add(int64(31 * 24 * time.Hour))
	if err := r.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.MailByID(ctx, m.ID); err == nil {
		t.Error("a sent mail of a month ago is still kept")
	}
	if _, err := second.MailByID(ctx, waiting.ID); err != nil {
		t.Errorf("a mail still to send was pruned: %v", err)
	}
}

// The relay loop started after a restart sends what the outbox kept.
func TestRelayRunSendsTheOutbox(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	dir := t.TempDir()
	var off atomic.Int64
	first := testDB(t, dir, &off)
	u := testUser(t, first, "pia@example.com")
	enqueue(t, first, u)
	enqueue(t, first, u)
	first.Close()
	db := testDB(t, dir, &off)
	s, _ := mail.ParseURL(srv.URL)
	r := mail.NewRelay(mail.Relay{DB: db, Sender: s, From: "noreply@example.com", Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	srv.Wait(t, 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
}

func TestRelayRetriesThenGivesUp(t *testing.T) {
	var refusals atomic.Int64
	refuse := func(code int) func() error {
		return func() error {
			if refusals.Add(1) == 1 || code >= 500 {
				return &smtp.SMTPError{Code: code, Message: "not now"}
			}
			return nil
		}
	}
	t.Run("temporary", func(t *testing.T) {
		refusals.Store(0)
		srv := mailtest.Start(t, mailtest.Options{Refuse: refuse(451)})
		var off atomic.Int64
		db := testDB(t, t.TempDir(), &off)
		m := enqueue(t, db, testUser(t, db, "pia@example.com"))
		s, _ := mail.ParseURL(srv.URL)
		r := mail.NewRelay(mail.Relay{DB: db, Sender: s, From: "noreply@example.com"})
		ctx := context.Background()
		if sent, err := r.SendOne(ctx, "c"); !sent || err != nil {
			t.Fatal(sent, err)
		}
		got, _ := db.MailByID(ctx, m.ID)
		if got.SentAt.IsZero() == false || got.LastError == "" || !got.FailedAt.IsZero() {
			t.Fatalf("after a 451: %+v", got)
		}
		if sent, _ := r.SendOne(ctx, "c"); sent {
			t.Fatal("retried before its backoff")
		}
		off.Add(int64(time.Minute))
		if sent, err := r.SendOne(ctx, "c"); !sent || err != nil {
			t.Fatal(sent, err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("%d messages after the retry, want 1", n)
		}
	})
	t.Run("permanent", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{Refuse: refuse(550)})
		var off atomic.Int64
		db := testDB(t, t.TempDir(), &off)
		m := enqueue(t, db, testUser(t, db, "pia@example.com"))
		s, _ := mail.ParseURL(srv.URL)
		r := mail.NewRelay(mail.Relay{DB: db, Sender: s, From: "noreply@example.com"})
		ctx := context.Background()
		_, _ = r.SendOne(ctx, "c")
		got, _ := db.MailByID(ctx, m.ID)
		if got.FailedAt.IsZero() {
			t.Fatalf("a 550 was not given up: %+v", got)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		var off atomic.Int64
		db := testDB(t, t.TempDir(), &off)
		m := enqueue(t, db, testUser(t, db, "pia@example.com"))
		r := mail.NewRelay(mail.Relay{DB: db, Sender: failing{}, From: "noreply@example.com", Attempts: 2})
		ctx := context.Background()
		for range 2 {
			if sent, _ := r.SendOne(ctx, "c"); !sent {
				t.Fatal("not tried")
			}
			off.Add(int64(2 * time.Hour))
		}
		got, _ := db.MailByID(ctx, m.ID)
		if got.FailedAt.IsZero() || got.Attempts != 2 {
			t.Fatalf("after 2 of 2 attempts: %+v", got)
		}
	})
}

type failing struct{}

func (failing) Send(context.Context, string, string, []byte) error {
	return errors.New("connection refused")
}

func TestUnsubscribeSignature(t *testing.T) {
	c := composer()
	link := c.UnsubscribeURL("user1")
	sig := link[strings.LastIndexByte(link, '/')+1:]
	if !c.ValidUnsubscribe("user1", sig) || c.ValidUnsubscribe("user2", sig) || c.ValidUnsubscribe("user1", sig+"x") {
		t.Error("the signature does not bind the user")
	}
	other := composer()
	other.Key = []byte("another key")
	if other.ValidUnsubscribe("user1", sig) {
		t.Error("another key accepts the signature")
	}
}
