package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

func TestCSRFRefused(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	for _, tc := range []struct {
		name, token, header string
		htmx                bool
	}{
		{"missing", "", "", false},
		{"wrong", "not-the-token", "", false},
		{"wrong header", "", "not-the-token", false},
		{"another session's", env.SignUp(t, "sam@example.com", store.RoleProspect).CSRF(), "", false},
		{"htmx without token", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", env.URL+"/account/tokens", strings.NewReader("name=x&csrf_token="+url.QueryEscape(tc.token)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header != "" {
				req.Header.Set(handlers.CSRFHeader, tc.header)
			}
			if tc.htmx {
				req.Header.Set("HX-Request", "true")
			}
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != 403 || !strings.Contains(body, "This form has expired") {
				t.Errorf("status %d, want 403: %s", resp.StatusCode, body)
			}
			if tc.htmx && strings.Contains(body, "<html") {
				t.Errorf("htmx got a whole page")
			}
			if ts, err := env.DB.ListTokens(t.Context(), c.User.ID); err != nil || len(ts) != 0 {
				t.Errorf("a token was made: %v %v", ts, err)
			}
		})
	}
	t.Run("right header", func(t *testing.T) {
		req, _ := http.NewRequest("POST", env.URL+"/account/tokens", strings.NewReader("name=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp := c.Do(t, req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestCrossSitePostRefused(t *testing.T) {
	env := handlerstest.NewServer(t)
	c := env.Visitor(t)
	c.Get(t, "/signup").Body.Close()
	form := url.Values{"csrf_token": {c.CSRF()}, "name": {"X"}, "email": {"x@example.com"}, "password": {"a fine long passphrase"}}
	req, _ := http.NewRequest("POST", env.URL+"/signup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site POST: %d", resp.StatusCode)
	}
	if _, err := env.DB.UserByEmail(t.Context(), "x@example.com"); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("the cross-site sign-up made an account, or the look-up failed: %v", err)
	}
}

// TestCSRFMultipart: the token is read from the first part without
// consuming the body, or from the header; a missing one is refused.
func TestCSRFMultipart(t *testing.T) {
	var got []string
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Server.Echo().POST("/account/upload-check", func(c echo.Context) error {
			f, err := c.FormFile("file")
			if err != nil {
				return err
			}
			r, _ := f.Open()
			b, _ := io.ReadAll(r)
			got = append(got, string(b))
			return c.NoContent(http.StatusNoContent)
		})
	})
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	big := strings.Repeat("z", 200<<10)
	build := func(token string) (*bytes.Buffer, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if token != "" {
			w.WriteField("csrf_token", token)
		}
		fw, _ := w.CreateFormFile("file", "big.txt")
		fw.Write([]byte(big))
		w.Close()
		return &buf, w.FormDataContentType()
	}
	for _, tc := range []struct {
		name, field string
		header      bool
		want        int
	}{
		{"field", c.CSRF(), false, 204},
		{"header", "", true, 204},
		{"missing", "", false, 403},
		{"wrong", "nope", false, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := build(tc.field)
			req, _ := http.NewRequest("POST", env.URL+"/account/upload-check", body)
			req.Header.Set("Content-Type", ct)
			if tc.header {
				req.Header.Set(handlers.CSRFHeader, c.CSRF())
			}
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if len(got) != 2 || got[0] != big || got[1] != big {
		t.Fatalf("the handler did not get the whole file: %d reads", len(got))
	}
}

func TestAPIIsExemptFromCSRFButNeedsToken(t *testing.T) {
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Server.Echo().POST("/api/v1/echo", func(c echo.Context) error {
			return c.String(200, handlers.CurrentUser(c).Email)
		}, h.APIAuth)
	})
	c := env.SignUp(t, "pat@example.com", store.RoleProspect)
	tok := env.Token(t, c.User.ID)
	for _, tc := range []struct {
		name   string
		bearer string
		cookie bool
		want   int
	}{
		{"token", tok, false, 200},
		{"cookie only", "", true, 401},
		{"bad token", "af_nope", false, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", env.URL+"/api/v1/echo", strings.NewReader("{}"))
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			client := http.DefaultClient
			if tc.cookie {
				client = c.HTTP
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := handlerstest.Body(t, resp)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == 200 && body != "pat@example.com" {
				t.Errorf("acted as %q", body)
			}
		})
	}
}
