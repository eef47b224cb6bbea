package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/gob"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"appfactory/apperr"
	"appfactory/store"
)

// SessionCookie is the name of the portal's session cookie.
const SessionCookie = "af_session"

// Session value keys.
const (
	keyUserID = "uid"
	keyFlash  = "flash"
)

// touchEvery limits writes: a session's activity is recorded at most this often.
const touchEvery = time.Minute

// SessionStore is a gorilla/sessions Store that keeps sessions in the
// database. The cookie holds only a random id; the row is keyed by the id's
// sha256 and holds the values, so a session can be ended on the server.
type SessionStore struct {
	DB *store.DB
	// Options are the cookie's attributes (no Domain: the cookie is host-only).
	Options sessions.Options
	// Idle ends a session unused this long; Lifetime ends any session this
	// long after it began.
	Idle, Lifetime time.Duration
}

var _ sessions.Store = (*SessionStore)(nil)

// Get returns the request's session, cached for the request.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or returns a new,
// unsaved one (IsNew) when there is none or it has ended.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.Options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return sess, nil
	}
	row, err := s.DB.SessionByHash(r.Context(), store.HashSessionID(c.Value))
	if apperr.Code(err) == apperr.NotFound {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if len(row.Data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil {
			return sess, fmt.Errorf("decode session: %w", err)
		}
	}
	sess.ID = c.Value
	sess.IsNew = false
	return sess, nil
}

// Save writes the session: a new one gets a fresh id, a row and the
// cookie; MaxAge < 0 ends it (row deleted, cookie expired).
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.DB.DeleteSession(ctx, store.HashSessionID(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		sess.ID = ""
		return nil
	}
	if sess.ID == "" {
		id, row, err := s.newRow(r, sess)
		if err != nil {
			return err
		}
		if err := s.DB.CreateSession(ctx, row); err != nil {
			return err
		}
		s.issue(w, sess, id)
		return nil
	}
	data, err := encodeValues(sess.Values)
	if err != nil {
		return err
	}
	now := s.DB.Now()
	row, err := s.DB.SessionByHash(ctx, store.HashSessionID(sess.ID))
	if err != nil {
		return err
	}
	row.Data, row.LastSeenAt, row.ExpiresAt = data, store.TimeOf(now), store.TimeOf(s.expiry(row.CreatedAt.Time, now))
	return s.DB.UpdateSession(ctx, row)
}

// newRow makes, without writing it, the row of a new session: a fresh id
// (returned, for the cookie) and the session's values.
func (s *SessionStore) newRow(r *http.Request, sess *sessions.Session) (string, *store.Session, error) {
	data, err := encodeValues(sess.Values)
	if err != nil {
		return "", nil, err
	}
	id, err := newSessionID()
	if err != nil {
		return "", nil, err
	}
	now := s.DB.Now()
	return id, &store.Session{
		IDHash: store.HashSessionID(id), UserID: userIDValue(sess), Data: data,
		IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 200),
		CreatedAt: store.TimeOf(now), LastSeenAt: store.TimeOf(now), ExpiresAt: store.TimeOf(s.expiry(now, now)),
	}, nil
}

// issue gives a new session, once its row is written, its id and cookie.
func (s *SessionStore) issue(w http.ResponseWriter, sess *sessions.Session, id string) {
	sess.ID = id
	opts := *sess.Options
	opts.MaxAge = int(s.Lifetime / time.Second)
	http.SetCookie(w, sessions.NewCookie(sess.Name(), id, &opts))
}

// touch records activity on a loaded session, at most once a minute, which
// pushes its idle expiry forward (never past its absolute lifetime).
func (s *SessionStore) touch(ctx context.Context, sess *sessions.Session) error {
	if sess.IsNew || sess.ID == "" {
		return nil
	}
	row, err := s.DB.SessionByHash(ctx, store.HashSessionID(sess.ID))
	if err != nil {
		return err
	}
	now := s.DB.Now()
	if now.Sub(row.LastSeenAt.Time) < touchEvery {
		return nil
	}
	row.LastSeenAt, row.ExpiresAt = store.TimeOf(now), store.TimeOf(s.expiry(row.CreatedAt.Time, now))
	return s.DB.UpdateSession(ctx, row)
}

// expiry is the earlier of the idle and the absolute end.
func (s *SessionStore) expiry(created, lastSeen time.Time) time.Time {
	idle, abs := lastSeen.Add(s.Idle), created.Add(s.Lifetime)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

func encodeValues(v map[any]any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	return buf.Bytes(), nil
}

func userIDValue(sess *sessions.Session) sql.NullString {
	uid, _ := sess.Values[keyUserID].(string)
	return sql.NullString{String: uid, Valid: uid != ""}
}

// newSessionID returns 256 random bits, base64url.
func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
