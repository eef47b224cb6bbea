// Package handlerstest runs the real portal on an httptest server over a
// temporary database, and signs users in through the real sign-in form, for
// the tests of any feature.
package handlerstest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/handlers"
	"appfactory/mail"
	"appfactory/orchestrator"
	"appfactory/password"
	"appfactory/store"
	"appfactory/web"
)

// Password is the password of every user made by SignUp.
const Password = "correct-horse-battery-staple"

// Env is a running portal: database, handlers and HTTP server.
type Env struct {
	DB       *store.DB
	Handlers *handlers.Handlers
	Web      *web.Server
	// Server is the httptest server; URL is its base address.
	Server *httptest.Server
	URL    string
	// Dir is the data directory (the database file lives there).
	Dir string
	// Service is the orchestrator the portal deploys through (when the
	// test did not set a Deployer or Orchestrator of its own); Wakes are
	// the tenants it asked the (absent) reconciler to act on.
	Service *orchestrator.Service
	Wakes   Wakes
	// Backups are the portal's backups, taken through Snapshots.
	Backups   *orchestrator.Backups
	Snapshots *Snapshots
	logs      *syncBuffer
	offset    atomic.Int64
}

// Advance moves the store's clock forward by d (sessions, throttles).
func (e *Env) Advance(d time.Duration) { e.offset.Add(int64(d)) }

// NewServer opens a store in a temporary directory, builds the web server
// and the handlers, runs configure (to set feature dependencies on the
// handlers, or replace h.Server) before Register, gives the handlers the
// embedded catalog and the real orchestrator.Service (over no engine) where
// configure set none, and serves it all over
// httptest. The store's clock is the real one, moved by Advance. Everything is
// closed when the test ends.
func NewServer(t testing.TB, configure ...func(h *handlers.Handlers)) *Env {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := web.New(web.Options{Domain: "localhost", Logger: logger})
	env := &Env{DB: db, Dir: dir, logs: logs}
	db.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(env.offset.Load())) }
	h := &handlers.Handlers{DB: db, Server: srv, Logger: logger}
	for _, f := range configure {
		f(h)
	}
	withFactory(t, h, env)
	withBackups(h, env)
	withMonitoring(h, env)
	ownComposer := h.Mail.Composer == nil
	if ownComposer {
		h.Mail.Composer = &mail.Composer{Portal: "http://localhost:8080", TenantURL: TenantURL, Key: []byte("test mail key")}
	}
	if err := h.Register(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h.Server.Handler())
	if ownComposer {
		// Links in mails lead to this test server.
		h.Mail.Composer.Portal = ts.URL
	}
	env.Handlers, env.Web, env.Server, env.URL = h, h.Server, ts, ts.URL
	t.Cleanup(func() {
		ts.Close()
		db.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return env
}

// Logs is everything the server logged so far.
func (e *Env) Logs() string { return e.logs.String() }

// Client is an HTTP client with its own cookie jar. It does not follow
// redirects, so that tests see them.
type Client struct {
	HTTP *http.Client
	// User is the signed-in user (nil for a visitor).
	User *store.User
	env  *Env
}

// Visitor returns a client that is not signed in.
func (e *Env) Visitor(t testing.TB) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{env: e, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// CreateUser makes a user of role (prospect, sales, admin) with Password,
// straight in the store.
func (e *Env) CreateUser(t testing.TB, email, role string) *store.User {
	t.Helper()
	hash, err := password.Hash(Password)
	if err != nil {
		t.Fatal(err)
	}
	name, _, _ := strings.Cut(email, "@")
	u := &store.User{Email: email, Name: name, Company: "Example Corp", PasswordHash: hash, Role: role}
	if err := e.DB.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// SignUp creates a user of role and signs a new client in as that user
// through a real GET and POST of /login.
func (e *Env) SignUp(t testing.TB, email, role string) *Client {
	t.Helper()
	u := e.CreateUser(t, email, role)
	c := e.Visitor(t)
	c.Login(t, email, Password)
	c.User = u
	return c
}

// Login signs the client in through the sign-in form; the test fails unless
// it succeeds.
func (c *Client) Login(t testing.TB, email, pw string) {
	t.Helper()
	c.Get(t, "/login").Body.Close()
	resp := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {pw}})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("sign in as %s: %d %s", email, resp.StatusCode, b)
	}
}

// Token returns a new API token of a user, for Authorization: Bearer.
func (e *Env) Token(t testing.TB, userID string) string {
	t.Helper()
	tok, _, err := e.DB.CreateToken(context.Background(), userID, "test")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

// CSRF is the CSRF token of the client's session ("" without one; GET a
// page with a form, such as /login, to get a session).
func (c *Client) CSRF() string {
	u, _ := url.Parse(c.env.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == handlers.SessionCookie {
			return handlers.CSRFTokenFor(ck.Value)
		}
	}
	return ""
}

// Do sends req with the client's cookies and its CSRF header.
func (c *Client) Do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	if tok := c.CSRF(); tok != "" && req.Header.Get(handlers.CSRFHeader) == "" {
		req.Header.Set(handlers.CSRFHeader, tok)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp
}

// Get fetches a path of the portal.
func (c *Client) Get(t testing.TB, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.env.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(t, req)
}

// PostForm posts a form to a path, with csrf_token added to it.
func (c *Client) PostForm(t testing.TB, path string, form url.Values) *http.Response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get(handlers.CSRFField) == "" {
		form.Set(handlers.CSRFField, c.CSRF())
	}
	req, err := http.NewRequest(http.MethodPost, c.env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The form carries the token, and no header, as a browser without htmx sends it.
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// Body reads and closes a response's body.
func Body(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a log sink that handlers may write from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
