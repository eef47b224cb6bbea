package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// sseEvent is one event as a stream client reads it.
type sseEvent struct {
	ID   int64
	Data handlers.StreamEventJSON
}

// sseStream is an open event stream; Next reads its next event, skipping
// comments.
type sseStream struct {
	resp  *http.Response
	lines *bufio.Scanner
}

func openStream(t *testing.T, env *handlerstest.Env, token, query, lastID string) (*sseStream, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env.URL+"/api/v1/events/stream"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp
	}
	s := &sseStream{resp: resp, lines: bufio.NewScanner(resp.Body)}
	t.Cleanup(func() { resp.Body.Close() })
	return s, resp
}

func (s *sseStream) Next(t *testing.T) sseEvent {
	t.Helper()
	var ev sseEvent
	for s.lines.Scan() {
		line := s.lines.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.ID, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		case line == "" && ev.ID != 0:
			if ev.ID != ev.Data.ID {
				t.Fatalf("id: %d but data says %d", ev.ID, ev.Data.ID)
			}
			return ev
		}
	}
	t.Fatalf("stream ended: %v", s.lines.Err())
	return ev
}

func (s *sseStream) Close() { s.resp.Body.Close() }

type eventsEnv struct {
	*handlerstest.Env
	adminTok, ownerTok, otherTok string
	mine, theirs                 string
}

func newEventsEnv(t *testing.T, cfg handlers.EventStreamConfig) *eventsEnv {
	t.Helper()
	ee := &eventsEnv{Env: handlerstest.NewServer(t, func(h *handlers.Handlers) { h.Events = cfg })}
	admin := ee.CreateUser(t, "admin@example.com", store.RoleAdmin)
	owner := ee.CreateUser(t, "owner@example.com", store.RoleProspect)
	other := ee.CreateUser(t, "other@example.com", store.RoleProspect)
	ee.adminTok, ee.ownerTok, ee.otherTok = ee.Token(t, admin.ID), ee.Token(t, owner.ID), ee.Token(t, other.ID)
	ee.mine = insertRunningTenant(t, ee.DB, "mine", owner.ID)
	ee.theirs = insertRunningTenant(t, ee.DB, "theirs", other.ID)
	return ee
}

func insertRunningTenant(t *testing.T, db *store.DB, slug, owner string) string {
	t.Helper()
	ctx := context.Background()
	id := store.NewID()
	if err := db.CreateApp(ctx, &store.App{ID: id, OwnerID: owner, Name: "App " + slug, Status: store.AppReady}); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{ID: id, AppID: id, OwnerID: owner, CreatedBy: owner, Slug: slug + "-" + id[:6],
		Platform: "contentapp", Version: "1", Environment: "trial", Replicas: 1,
		DesiredState: domain.DesiredRunning, State: domain.StateRunning}
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return id
}

func (ee *eventsEnv) add(t *testing.T, tenant, kind, msg string) {
	t.Helper()
	if err := ee.DB.AddEvent(context.Background(), tenant, kind, msg); err != nil {
		t.Fatal(err)
	}
}

// A client that goes away and comes back with Last-Event-ID gets every
// event it missed once, then the live ones, with none lost at the seam
// even while events are being written as it reconnects.
func TestEventStreamResumesWithoutLossOrRepeat(t *testing.T) {
	ee := newEventsEnv(t, handlers.EventStreamConfig{})
	ee.add(t, ee.mine, domain.EventObject, "before the stream")
	s, _ := openStream(t, ee.Env, ee.adminTok, "?kind=object", "")
	ee.add(t, ee.mine, domain.EventObject, "live 1")
	first := s.Next(t)
	if first.Data.Message != "live 1" || first.Data.TenantID != ee.mine || first.Data.Kind != domain.EventObject {
		t.Fatalf("first event %+v: a stream without Last-Event-ID starts with the new events", first)
	}
	ee.add(t, ee.mine, domain.EventObject, "live 2")
	second := s.Next(t)
	if second.Data.Message != "live 2" || second.ID <= first.ID {
		t.Fatalf("second event %+v", second)
	}
	s.Close()
	const total = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if err := ee.DB.AddEvent(context.Background(), ee.mine, domain.EventObject, fmt.Sprintf("after %d", i)); err != nil {
				t.Error(err)
				return
			}
			if i == total/3 {
				time.Sleep(10 * time.Millisecond) // the reconnect lands among the writes
			}
		}
	}()
	r, _ := openStream(t, ee.Env, ee.adminTok, "?kind=object", strconv.FormatInt(second.ID, 10))
	for i := range total {
		ev := r.Next(t)
		if want := fmt.Sprintf("after %d", i); ev.Data.Message != want {
			t.Fatalf("event %d after resuming: %q, want %q", i, ev.Data.Message, want)
		}
	}
	<-done
}

func TestEventStreamAuthorisationAndFilters(t *testing.T) {
	ee := newEventsEnv(t, handlers.EventStreamConfig{Heartbeat: 20 * time.Millisecond})
	for _, tc := range []struct {
		name, token, query string
		status             int
	}{
		{"no token", "", "", 401},
		{"another's tenant", ee.ownerTok, "?tenant=" + ee.theirs, 404},
		{"unknown kind", ee.ownerTok, "?kind=gossip", 400},
		{"bad Last-Event-ID", ee.ownerTok, "?last_event_id=x", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, resp := openStream(t, ee.Env, tc.token, tc.query, ""); resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			} else {
				resp.Body.Close()
			}
		})
	}
	prospect, _ := openStream(t, ee.Env, ee.ownerTok, "", "0")
	admin, _ := openStream(t, ee.Env, ee.adminTok, "?tenant="+url.QueryEscape(ee.theirs), "")
	ee.add(t, ee.theirs, domain.EventObject, "not for the owner")
	ee.add(t, ee.mine, domain.EventObject, "for the owner")
	// From 0 the prospect replays their own tenant's creation, then the
	// live event of theirs; never another's.
	for {
		ev := prospect.Next(t)
		if ev.Data.TenantID != ee.mine {
			t.Fatalf("a prospect got an event of another's tenant: %+v", ev)
		}
		if ev.Data.Message == "for the owner" {
			break
		}
	}
	if ev := admin.Next(t); ev.Data.Message != "not for the owner" {
		t.Errorf("the admin's ?tenant= stream got %+v", ev)
	}
	// A quiet stream sends heartbeats.
	for prospect.lines.Scan() {
		if strings.HasPrefix(prospect.lines.Text(), ": ping") {
			return
		}
	}
	t.Fatalf("the stream ended without a heartbeat: %v", prospect.lines.Err())
}

// A client that stops reading is disconnected once its buffer is full,
// while another keeps getting every event.
func TestEventStreamDropsASlowClient(t *testing.T) {
	ee := newEventsEnv(t, handlers.EventStreamConfig{Buffer: 64})
	u, _ := url.Parse(ee.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/events/stream HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", u.Host, ee.adminTok)
	fast, _ := openStream(t, ee.Env, ee.adminTok, "", "")
	msg := strings.Repeat("x", 1900)
	got := 0
	for i := 0; !strings.Contains(ee.Logs(), "event stream reader dropped"); i++ {
		if i == 20000 {
			t.Fatal("the slow client was never dropped")
		}
		ee.add(t, ee.mine, domain.EventObject, fmt.Sprintf("%d %s", i, msg))
		for ; got <= i && i%10 == 9; got++ {
			if ev := fast.Next(t); !strings.HasPrefix(ev.Data.Message, strconv.Itoa(got)+" ") {
				t.Fatalf("the fast client got %.20q, want event %d", ev.Data.Message, got)
			}
		}
	}
	// The fast client goes on.
	ee.add(t, ee.mine, domain.EventObject, "last")
	for ev := fast.Next(t); ev.Data.Message != "last"; ev = fast.Next(t) {
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // a guard against a hang, not a measure
	// The slow client's connection is closed: reading it to the end ends.
	if _, err := io.Copy(io.Discard, conn); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read the dropped stream: %v", err)
	}
}
