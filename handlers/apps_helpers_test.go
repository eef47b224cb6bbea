package handlers_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// entry is a member of a test archive.
type entry struct {
	name, body string
	typ        byte // tar.TypeReg when 0
	link       string
}

func goodBundle(name string) []entry {
	return []entry{
		{name: "component.yaml", body: "name: " + name + "\nversion: 1.0.0\ndescription: A theme.\n"},
		{name: "theme/", typ: tar.TypeDir},
		{name: "theme/site.css", body: "body{color:#123}"},
	}
}

// tarGz makes a .tar.gz of entries.
func tarGz(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.link}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			io.WriteString(tw, e.body)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// zipOf makes a .zip of regular files.
func zipOf(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	zw.Close()
	return buf.Bytes()
}

// multipartBody builds a multipart form with fields (in order) and a file.
func multipartBody(t *testing.T, fields [][2]string, filename string, data []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if filename != "" || data != nil {
		w, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// world is a portal with a signed-in prospect and their API token.
type world struct {
	env   *handlerstest.Env
	c     *handlerstest.Client
	token string
}

func newWorld(t *testing.T, configure ...func(h *handlers.Handlers)) *world {
	t.Helper()
	env := handlerstest.NewServer(t, configure...)
	c := env.SignUp(t, "alice@example.com", store.RoleProspect)
	return &world{env: env, c: c, token: env.Token(t, c.User.ID)}
}

// post posts a form and returns status, Location and body.
func post(t *testing.T, c *handlerstest.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	resp := c.PostForm(t, path, form)
	body := handlerstest.Body(t, resp)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

// get fetches a page and returns status and body.
func get(t *testing.T, c *handlerstest.Client, path string) (int, string) {
	t.Helper()
	resp := c.Get(t, path)
	return resp.StatusCode, handlerstest.Body(t, resp)
}

// htmxPost posts a form as htmx does, for a target.
func htmxPost(t *testing.T, w *world, path, target string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.env.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", target)
	resp := w.c.Do(t, req)
	return resp.StatusCode, handlerstest.Body(t, resp)
}

// upload posts a multipart form to the portal, with the client's CSRF token.
func upload(t *testing.T, w *world, path string, fields [][2]string, filename string, data []byte) (int, string) {
	t.Helper()
	body, ct := multipartBody(t, append([][2]string{{"csrf_token", w.c.CSRF()}}, fields...), filename, data)
	req, _ := http.NewRequest(http.MethodPost, w.env.URL+path, body)
	req.Header.Set("Content-Type", ct)
	resp := w.c.Do(t, req)
	return resp.StatusCode, handlerstest.Body(t, resp)
}

// api calls the JSON API with a token ("" for none) and decodes the answer into out.
func api(t *testing.T, env *handlerstest.Env, token, method, path, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, env.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// apiUpload posts an archive to /api/v1/components.
func apiUpload(t *testing.T, env *handlerstest.Env, token, filename string, data []byte, out any) int {
	t.Helper()
	body, ct := multipartBody(t, nil, filename, data)
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/v1/components", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode
}

// apiError is the API's error shape.
type apiError struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

var appIDInURL = regexp.MustCompile(`^/apps/([a-z2-7]{16})/wizard/(\d)$`)

// wizardURL checks that loc is a step of an app's wizard and returns the app id.
func wizardURL(t *testing.T, loc string, step string) string {
	t.Helper()
	m := appIDInURL.FindStringSubmatch(loc)
	if m == nil || m[2] != step {
		t.Fatalf("redirected to %q, want step %s of an app", loc, step)
	}
	return m[1]
}

// storedFiles lists every file under the data directory's components folder.
func storedFiles(t *testing.T, env *handlerstest.Env) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(filepath.Join(env.Dir, "components"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// countApps counts the apps of every owner.
func countApps(t *testing.T, env *handlerstest.Env) int {
	t.Helper()
	apps, err := env.DB.AllApps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(apps)
}

// countComponents counts the uploaded components of an owner.
func countComponents(t *testing.T, env *handlerstest.Env, ownerID string) int {
	t.Helper()
	cs, err := env.DB.CustomComponentsOfOwner(context.Background(), ownerID)
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

func appOf(t *testing.T, w *world, id string) *store.App {
	t.Helper()
	a, err := w.env.DB.AppOfOwner(context.Background(), id, w.c.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}
