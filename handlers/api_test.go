package handlers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
	"appfactory/web"
)

func TestAPITokenAuth(t *testing.T) {
	env := handlerstest.NewServer(t, func(h *handlers.Handlers) {
		h.Server.Echo().GET("/api/v1/admin-only", func(c echo.Context) error { return c.NoContent(204) }, h.APIAuth, h.RequireRole(store.RoleAdmin))
	})
	pat := env.SignUp(t, "pat@example.com", store.RoleProspect)
	boss := env.CreateUser(t, "boss@example.com", store.RoleAdmin)
	patTok, bossTok := env.Token(t, pat.User.ID), env.Token(t, boss.ID)
	for _, tc := range []struct {
		name, path, auth string
		status           int
		code             string
	}{
		{"me", "/api/v1/me", "Bearer " + patTok, 200, ""},
		{"lower-case scheme", "/api/v1/me", "bearer " + patTok, 200, ""},
		{"no token", "/api/v1/me", "", 401, "unauthorized"},
		{"no token, unknown route", "/api/v1/tenants", "", 401, "unauthorized"},
		{"bad token", "/api/v1/me", "Bearer af_x", 401, "unauthorized"},
		{"basic auth", "/api/v1/me", "Basic cGF0OnB3", 401, "unauthorized"},
		{"prospect on admin route", "/api/v1/admin-only", "Bearer " + patTok, 403, "forbidden"},
		{"admin on admin route", "/api/v1/admin-only", "Bearer " + bossTok, 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", env.URL+tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.code != "" {
				var e web.ErrorBody
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code != tc.code || e.Error.Message == "" {
					t.Fatalf("error body %+v %v", e, err)
				}
			}
			if tc.name == "me" {
				var me handlers.MeJSON
				json.NewDecoder(resp.Body).Decode(&me)
				if me.ID != pat.User.ID || me.Email != "pat@example.com" || me.Role != "prospect" || me.Name == "" {
					t.Fatalf("me %+v", me)
				}
			}
		})
	}
}

func TestAPIRefusesDisabledUsersToken(t *testing.T) {
	env := handlerstest.NewServer(t)
	u := env.CreateUser(t, "pat@example.com", store.RoleProspect)
	tok := env.Token(t, u.ID)
	env.DB.SetUserDisabled(t.Context(), u.ID, true)
	req, _ := http.NewRequest("GET", env.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("disabled user's token: %d", resp.StatusCode)
	}
}
