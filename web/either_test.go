package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"appfactory/web"
)

func text(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	})
}

func TestRenderEither(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		headers    map[string]string
		partial    templ.Component
		page       templ.Component
		wantBody   string
		wantStatus int
		wantErr    error
	}{
		{name: "plain request gets the page", partial: text("partial"), wantBody: "page", wantStatus: 422},
		{name: "htmx request gets the partial", headers: map[string]string{"HX-Request": "true"}, partial: text("partial"), wantBody: "partial", wantStatus: 422},
		{name: "boosted navigation gets the page", headers: map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, partial: text("partial"), wantBody: "page", wantStatus: 422},
		{name: "swap of the partial's target", headers: map[string]string{"HX-Request": "true", "HX-Target": "list"},
			partial: web.Swap{Component: text("partial"), Target: "list"}, wantBody: "partial", wantStatus: 422},
		{name: "swap of another target gets the page", headers: map[string]string{"HX-Request": "true", "HX-Target": "other"},
			partial: web.Swap{Component: text("partial"), Target: "list"}, wantBody: "page", wantStatus: 422},
		{name: "swap with a status of its own", headers: map[string]string{"HX-Request": "true"},
			partial: web.Swap{Component: text("partial"), Status: 200}, wantBody: "partial", wantStatus: 200},
		{name: "deferred page is built when chosen", partial: web.Deferred(func() (templ.Component, error) { return nil, boom }),
			page: web.Deferred(func() (templ.Component, error) { return text("built"), nil }), wantBody: "built", wantStatus: 422},
		{name: "deferred error is returned before writing", headers: map[string]string{"HX-Request": "true"},
			partial: web.Deferred(func() (templ.Component, error) { return nil, boom }), wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(req, rec)
			page := tt.page
			if page == nil {
				page = text("page")
			}
			err := web.RenderEither(c, http.StatusUnprocessableEntity, page, tt.partial)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || c.Response().Committed {
					t.Fatalf("err %v, committed %v; want %v before anything is written", err, c.Response().Committed, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}
}
