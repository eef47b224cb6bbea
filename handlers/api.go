package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"appfactory/apperr"
	"appfactory/web"
)

// apiAuthenticate puts the user of a bearer token in the context of an API
// request; a request without a valid token gets 401, whatever its route.
func (h *Handlers) apiAuthenticate(c echo.Context, next echo.HandlerFunc) error {
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, tok, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return apiUnauthorized(c, "Sign in with an API token: Authorization: Bearer <token>.")
	}
	u, err := h.DB.UserByToken(c.Request().Context(), strings.TrimSpace(tok))
	if apperr.Code(err) == apperr.Unauthorized {
		h.Logger.Info("api token refused", "ip", c.RealIP(), "path", c.Request().URL.Path)
		return apiUnauthorized(c, "The API token is not valid.")
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return apiUnauthorized(c, "This account is disabled.")
	}
	c.Set(ctxUser, u)
	return next(c)
}

// APIAuth requires an API user: the bearer token's user is in the context
// (CurrentUser), acting with that user's role; otherwise 401 in the API's
// JSON error shape.
func (h *Handlers) APIAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if CurrentUser(c) != nil {
			return next(c)
		}
		return h.apiAuthenticate(c, next)
	}
}

func apiUnauthorized(c echo.Context, msg string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="appfactory"`)
	return c.JSON(http.StatusUnauthorized, web.ErrorBody{Error: web.ErrorDetail{Code: apperr.Unauthorized, Message: msg}})
}

// MeJSON is the API's view of the signed-in user.
type MeJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func (h *Handlers) apiMe(c echo.Context) error {
	u := CurrentUser(c)
	return c.JSON(http.StatusOK, MeJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role})
}
