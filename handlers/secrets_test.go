package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"appfactory/handlers/handlerstest"
)

// TestNoSecretInDatabaseOrLogs drives sign-up, sign-in, a password change
// and a token through HTTP, then looks for each secret in the database
// files and the log.
func TestNoSecretInDatabaseOrLogs(t *testing.T) {
	env := handlerstest.NewServer(t)
	first, second := "first secret passphrase 4417", "second secret passphrase 9931"
	c := env.Visitor(t)
	c.Get(t, "/signup").Body.Close()
	resp := c.PostForm(t, "/signup", url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "password": {first}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	wrong := env.Visitor(t)
	wrong.Get(t, "/login").Body.Close()
	wrong.PostForm(t, "/login", url.Values{"email": {"pat@example.com"}, "password": {"wrong guess passphrase 1234"}}).Body.Close()
	c.PostForm(t, "/account/password", url.Values{"current_password": {first}, "new_password": {second}}).Body.Close()
	body := handlerstest.Body(t, c.PostForm(t, "/account/tokens", url.Values{"name": {"ci"}}))
	m := newTokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token shown")
	}
	sessionID := cookieOf(t, env, c)
	secrets := map[string]string{
		"first password": first, "second password": second, "wrong password": "wrong guess passphrase 1234",
		"api token": m[1], "session id": sessionID, "csrf token": c.CSRF(),
	}
	files, _ := filepath.Glob(filepath.Join(env.Dir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s in clear in %s", what, filepath.Base(f))
			}
		}
	}
	logs := env.Logs()
	if len(logs) == 0 {
		t.Fatal("nothing logged")
	}
	for what, s := range secrets {
		if bytes.Contains([]byte(logs), []byte(s)) {
			t.Errorf("%s in the log", what)
		}
	}
}
