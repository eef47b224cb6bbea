package mail_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/mail"
	"appfactory/store"
)

// trialTenant makes a tenant of owner whose trial ends in trial.
func trialTenant(t *testing.T, db *store.DB, owner *store.User, slug string, trial time.Duration) *store.Tenant {
	t.Helper()
	ctx := context.Background()
	a := &store.App{OwnerID: owner.ID, Name: "Docs " + slug, Platform: "contentapp", Version: "1.0", Environment: "trial"}
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{AppID: a.ID, OwnerID: owner.ID, CreatedBy: owner.ID, Slug: slug, Title: "Docs", Platform: "contentapp",
		Version: "1.0", Environment: "trial", Replicas: 1, ExpiresAt: store.TimeOf(db.Now().Add(trial))}
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return tn
}

type hook struct {
	mu    sync.Mutex
	kinds []string
}

func (h *hook) on(_ context.Context, kind string, tn *store.Tenant) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kinds = append(h.kinds, kind+":"+tn.Slug)
}

// outboxKinds lists the kinds of mail queued to an address, oldest first.
func outboxKinds(t *testing.T, db *store.DB, to string) []string {
	t.Helper()
	ms, err := db.ListOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].To == to {
			out = append(out, ms[i].Kind)
		}
	}
	return out
}

func TestNoticesAreSentOnceEach(t *testing.T) {
	var off atomic.Int64
	dir := t.TempDir()
	db := testDB(t, dir, &off)
	ctx := context.Background()
	pia := testUser(t, db, "pia@example.com")
	tn := trialTenant(t, db, pia, "pia-docs", 4*24*time.Hour)
	h := &hook{}
	n := &mail.Notices{DB: db, Composer: composer(), OnNotice: h.on}
	pass := func(want int) {
		t.Helper()
		got, err := n.Pass(ctx)
		if err != nil || got != want {
			t.Fatalf("Pass = %d, %v; want %d", got, err, want)
		}
	}
	pass(0) // pending, 4 days left
	if err := db.SetTenantState(ctx, tn.ID, domain.StateRunning, ""); err != nil {
		t.Fatal(err)
	}
	pass(1) // ready
	pass(0)
	off.Add(int64(36 * time.Hour)) // 2.5 days left
	pass(1)
	pass(0)
	// A restart between passes sends nothing again.
	db.Close()
	db = testDB(t, dir, &off)
	n.DB = db
	pass(0)
	off.Add(int64(48 * time.Hour)) // half a day left
	pass(1)
	off.Add(int64(24 * time.Hour)) // ended
	pass(1)
	pass(0)
	want := []string{mail.KindReady, mail.KindExpiring3Days, mail.KindExpiring1Day, mail.KindExpired}
	if got := outboxKinds(t, db, "pia@example.com"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("mails %v, want %v", got, want)
	}
	if strings.Join(h.kinds, ",") != "ready:pia-docs,trial_expiring_3d:pia-docs,trial_expiring_1d:pia-docs,trial_expired:pia-docs" {
		t.Errorf("OnNotice saw %v", h.kinds)
	}
	ms, _ := db.ListOutbox(ctx, 10)
	for _, m := range ms {
		switch m.Kind {
		case mail.KindReady:
			if !strings.Contains(m.Text, "https://pia-docs.apps.example.com/") || !strings.Contains(m.Text, "because you deployed pia-docs") {
				t.Errorf("ready mail:\n%s", m.Text)
			}
		case mail.KindExpired:
			if !strings.Contains(m.Text, "extend") || m.Unsubscribe == "" || !strings.Contains(m.Text, m.Unsubscribe) {
				t.Errorf("expired mail:\n%s", m.Text)
			}
		}
	}
	// An extended trial crosses the points again.
	if _, _, err := db.ExtendTenant(ctx, tn.ID, 2); err != nil {
		t.Fatal(err)
	}
	pass(1)
	if got := outboxKinds(t, db, "pia@example.com"); got[len(got)-1] != mail.KindExpiring3Days {
		t.Errorf("after the extension: %v", got)
	}
}

// An owner who turned mail off gets no notice, and later passes do not
// send the ones skipped.
func TestNoticesRespectTheOptOut(t *testing.T) {
	var off atomic.Int64
	db := testDB(t, t.TempDir(), &off)
	ctx := context.Background()
	u := testUser(t, db, "quiet@example.com")
	if err := db.SetMailOptOut(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	trialTenant(t, db, u, "quiet-docs", 12*time.Hour)
	h := &hook{}
	n := &mail.Notices{DB: db, Composer: composer(), OnNotice: h.on}
	if got, err := n.Pass(ctx); got != 1 || err != nil {
		t.Fatalf("Pass = %d, %v", got, err)
	}
	if err := db.SetMailOptOut(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Pass(ctx); got != 0 {
		t.Fatalf("a skipped notice was sent later")
	}
	if got := outboxKinds(t, db, "quiet@example.com"); len(got) != 0 {
		t.Errorf("mails to an opted-out owner: %v", got)
	}
	if len(h.kinds) != 1 {
		t.Errorf("OnNotice saw %v, want the one notice", h.kinds)
	}
}
