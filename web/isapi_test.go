package web_test

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"appfactory/web"
)

func TestIsAPI(t *testing.T) {
	for _, tc := range []struct {
		path, accept string
		want         bool
	}{
		{"/api/v1/apps", "", true},
		{"/api/v1/apps", "text/html", true},
		// /api itself is the API's, as it is for sessions and CSRF.
		{"/api", "", true},
		{"/apis", "", false},
		{"/metrics", "", true},
		{"/metrics", "text/plain", true},
		// A browser following the admin dashboard's link gets pages.
		{"/metrics", "text/html,application/xhtml+xml", false},
		{"/apps", "", false},
		{"/static/app.js", "", false},
	} {
		t.Run(tc.path+" "+tc.accept, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			c := echo.New().NewContext(req, httptest.NewRecorder())
			if got := web.IsAPI(c); got != tc.want {
				t.Fatalf("IsAPI = %v, want %v", got, tc.want)
			}
		})
	}
}
