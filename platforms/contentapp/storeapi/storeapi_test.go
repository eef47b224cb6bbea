package storeapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
	"appfactory/platforms/contentapp/docstore"
)

var allComponents = content.Components{content.Comments, content.Versioning, content.Workflow, content.Search}

func testModel() content.Model {
	return content.Model{Title: "Acme Docs", Color: "#aa3355", Doctypes: []content.Doctype{{
		Name: "Contract",
		Fields: []content.Field{
			{Name: "party", Type: content.Text},
			{Name: "amount", Type: content.Number},
			{Name: "kind", Type: content.Choice, Choices: []string{"nda", "msa"}},
		},
	}}}
}

// newTestServer runs the store API over a fresh database file.
func newTestServer(t *testing.T, comps content.Components) *httptest.Server {
	t.Helper()
	db, err := docstore.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(NewServer(db, testModel(), comps, "1.0", log).Handler())
	t.Cleanup(func() { srv.Close(); db.Close() })
	return srv
}

// call sends body (when not empty) and returns the status and decoded JSON.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func createDoc(t *testing.T, srv *httptest.Server, title string) string {
	t.Helper()
	code, out := call(t, srv, "POST", "/documents", `{"doctype":"Contract","title":"`+title+`","fields":{"amount":5,"kind":"nda"}}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	return out["id"].(string)
}

func TestAPI(t *testing.T) {
	srv := newTestServer(t, allComponents)
	id := createDoc(t, srv, "Supply deal")
	tests := []struct {
		name, method, path, body string
		want                     int
		check                    func(t *testing.T, out map[string]any)
	}{
		{"health", "GET", "/healthz", "", 200, func(t *testing.T, out map[string]any) {
			if out["version"] != "1.0" {
				t.Fatalf("version = %v", out["version"])
			}
		}},
		{"list", "GET", "/documents", "", 200, func(t *testing.T, out map[string]any) {
			if out["total"] != 1.0 || len(out["documents"].([]any)) != 1 {
				t.Fatalf("list = %v", out)
			}
		}},
		{"get", "GET", "/documents/" + id, "", 200, func(t *testing.T, out map[string]any) {
			if out["title"] != "Supply deal" || out["state"] != "draft" {
				t.Fatalf("document = %v", out)
			}
		}},
		{"get missing", "GET", "/documents/nope", "", 404, nil},
		{"malformed json", "POST", "/documents", `{"doctype":`, 400, nil},
		{"unknown key", "POST", "/documents", `{"doctype":"Contract","title":"x","owner":"me"}`, 400, nil},
		{"two values", "POST", "/documents", `{"doctype":"Contract","title":"x"} {}`, 400, nil},
		{"missing title", "POST", "/documents", `{"doctype":"Contract","title":" "}`, 422, func(t *testing.T, out map[string]any) {
			if e := out["error"].(map[string]any); e["code"] != "unprocessable" || e["field"] != "title" {
				t.Fatalf("error = %v", e)
			}
		}},
		{"bad choice", "POST", "/documents", `{"doctype":"Contract","title":"x","fields":{"kind":"lease"}}`, 422, nil},
		{"unknown doctype", "POST", "/documents", `{"doctype":"Memo","title":"x"}`, 422, nil},
		{"bad limit", "GET", "/documents?limit=0", "", 400, nil},
		{"too large", "POST", "/documents", `{"doctype":"Contract","title":"` + strings.Repeat("x", maxBody) + `"}`, 413, nil},
		{"update", "PUT", "/documents/" + id, `{"title":"Supply deal 2","fields":{"amount":6},"version":1}`, 200, func(t *testing.T, out map[string]any) {
			if out["version"] != 2.0 || out["fields"].(map[string]any)["amount"] != 6.0 {
				t.Fatalf("updated = %v", out)
			}
		}},
		{"stale update", "PUT", "/documents/" + id, `{"title":"x","version":1}`, 409, nil},
		{"doctype change", "PUT", "/documents/" + id, `{"doctype":"Other","title":"x"}`, 422, nil},
		{"versions", "GET", "/documents/" + id + "/versions", "", 200, func(t *testing.T, out map[string]any) {
			if vs := out["versions"].([]any); len(vs) != 1 || vs[0].(map[string]any)["title"] != "Supply deal" {
				t.Fatalf("versions = %v", out)
			}
		}},
		{"comment", "POST", "/documents/" + id + "/comments", `{"author":"Ann","body":"Looks good"}`, 201, nil},
		{"empty comment", "POST", "/documents/" + id + "/comments", `{"body":""}`, 422, nil},
		{"comment on missing", "POST", "/documents/nope/comments", `{"body":"x"}`, 404, nil},
		{"comments", "GET", "/documents/" + id + "/comments", "", 200, func(t *testing.T, out map[string]any) {
			if cs := out["comments"].([]any); len(cs) != 1 || cs[0].(map[string]any)["author"] != "Ann" {
				t.Fatalf("comments = %v", out)
			}
		}},
		{"transition", "POST", "/documents/" + id + "/transition", `{"to":"review"}`, 200, func(t *testing.T, out map[string]any) {
			if out["state"] != "review" {
				t.Fatalf("state = %v", out["state"])
			}
		}},
		{"illegal transition", "POST", "/documents/" + id + "/transition", `{"to":"review"}`, 409, nil},
		{"unknown state", "POST", "/documents/" + id + "/transition", `{"to":"gone"}`, 422, nil},
		{"search", "GET", "/search?q=supply", "", 200, func(t *testing.T, out map[string]any) {
			if len(out["documents"].([]any)) != 1 {
				t.Fatalf("search = %v", out)
			}
		}},
		{"search too long", "GET", "/search?q=" + strings.Repeat("a", 201), "", 400, nil},
		{"unknown route", "GET", "/nothing", "", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := call(t, srv, tt.method, tt.path, tt.body)
			if code != tt.want {
				t.Fatalf("%s %s = %d %v, want %d", tt.method, tt.path, code, out, tt.want)
			}
			if code >= 400 {
				if e, ok := out["error"].(map[string]any); !ok || e["code"] == "" || e["message"] == "" {
					t.Fatalf("error answer = %v", out)
				}
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func TestComponentsOff(t *testing.T) {
	tests := []struct {
		component, method, path, body string
	}{
		{content.Comments, "GET", "/documents/ID/comments", ""},
		{content.Comments, "POST", "/documents/ID/comments", `{"body":"x"}`},
		{content.Versioning, "GET", "/documents/ID/versions", ""},
		{content.Workflow, "POST", "/documents/ID/transition", `{"to":"review"}`},
		{content.Search, "GET", "/search?q=x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.component+" "+tt.method, func(t *testing.T) {
			var others content.Components
			for _, c := range allComponents {
				if c != tt.component {
					others = append(others, c)
				}
			}
			srv := newTestServer(t, others)
			id := createDoc(t, srv, "Doc")
			path := strings.Replace(tt.path, "ID", id, 1)
			if code, out := call(t, srv, tt.method, path, tt.body); code != http.StatusNotFound {
				t.Fatalf("%s %s with %s off = %d %v, want 404", tt.method, path, tt.component, code, out)
			}
		})
	}
}

func TestUpdateKeepsNoVersionWhenOff(t *testing.T) {
	srv := newTestServer(t, content.Components{})
	id := createDoc(t, srv, "Doc")
	if code, out := call(t, srv, "PUT", "/documents/"+id, `{"title":"Doc 2"}`); code != 200 || out["version"] != 2.0 {
		t.Fatalf("update = %d %v", code, out)
	}
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	srv := newTestServer(t, allComponents)
	c := NewClient(srv.URL + "/")
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := c.CreateDocument(ctx, content.DocumentInput{Doctype: "Contract", Title: "Deal", Fields: map[string]any{"amount": "12"}})
	if err != nil || d.Fields["amount"] != 12.0 {
		t.Fatalf("create = %+v, %v", d, err)
	}
	_, err = c.CreateDocument(ctx, content.DocumentInput{Doctype: "Contract", Title: "Deal", Fields: map[string]any{"amount": "x"}})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Unprocessable || ae.Field != "amount" {
		t.Fatalf("bad create: %v", err)
	}
	if _, err := c.UpdateDocument(ctx, d.ID, content.DocumentInput{Title: "Deal 2", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddComment(ctx, d.ID, content.CommentInput{Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transition(ctx, d.ID, content.Review); err != nil {
		t.Fatal(err)
	}
	got, err := c.Document(ctx, d.ID)
	if err != nil || got.Title != "Deal 2" || got.State != content.Review {
		t.Fatalf("document = %+v, %v", got, err)
	}
	vs, _ := c.Versions(ctx, d.ID)
	cs, _ := c.Comments(ctx, d.ID)
	res, _ := c.Search(ctx, "deal")
	list, _ := c.Documents(ctx, 10)
	if len(vs) != 1 || len(cs) != 1 || len(res) != 1 || list.Total != 1 || list.ByDoctype["Contract"] != 1 {
		t.Fatalf("versions %d, comments %d, search %d, list %+v", len(vs), len(cs), len(res), list)
	}
	if _, err := c.Document(ctx, "../healthz"); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("escaped id: %v", err)
	}
}

func TestClientUnavailable(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	url := ln.URL
	ln.Close() // nothing listens there any more
	c := NewClient(url)
	c.RetryFor = 150 * time.Millisecond
	start := time.Now()
	_, err := c.Document(context.Background(), "x")
	if apperr.Code(err) != apperr.Unavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
	// It retried (not less than a third of the window); the upper bound is
	// far from the normal 150 ms, so only a client that kept on well past
	// its window (not a slow machine) fails it.
	if took := time.Since(start); took < 50*time.Millisecond || took > 10*time.Second {
		t.Fatalf("gave up after %v, want about the retry window", took)
	}
	if err := c.Ping(context.Background()); apperr.Code(err) != apperr.Unavailable {
		t.Fatalf("ping = %v", err)
	}
}

func TestClientWaitsForStartingStore(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	srv.Listener.Close()
	db, err := docstore.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := NewServer(db, testModel(), nil, "1.0", slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
	started := make(chan *http.Server, 1)
	go func() {
		time.Sleep(200 * time.Millisecond) // the scenario: a store that comes up later
		s := &http.Server{Addr: strings.TrimPrefix(url, "http://"), Handler: h}
		started <- s
		s.ListenAndServe()
	}()
	t.Cleanup(func() { (<-started).Close() })
	c := NewClient(url)
	if _, err := c.Documents(context.Background(), 5); err != nil {
		t.Fatalf("request during store start: %v", err)
	}
}

// A web role under load sends the store more requests at once than it
// keeps connections: they wait for one of its storeConns connections
// instead of each burst dialing new ones and closing them after it (every
// close a TIME_WAIT port in the web container, which ran out of them).
func TestClientBoundsConnectionsUnderBursts(t *testing.T) {
	db, err := docstore.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := NewServer(db, testModel(), allComponents, "1.0", slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
	srv := httptest.NewUnstartedServer(h)
	var dialed atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() { srv.Close(); db.Close() })
	c := NewClient(srv.URL)
	const bursts, width = 3, 8 * storeConns
	for b := range bursts {
		var wg sync.WaitGroup
		errs := make(chan error, width)
		for range width {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Documents(context.Background(), 5); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("burst %d: %v", b, err)
		}
	}
	if n := dialed.Load(); n > storeConns {
		t.Fatalf("%d bursts of %d requests opened %d connections to the store, want at most %d", bursts, width, n, storeConns)
	}
}
