package web

import "github.com/labstack/echo/v4"

// HTMX is what htmx told us about a request.
type HTMX struct {
	// Request is true when htmx made the request (HX-Request).
	Request bool
	// Boosted is true for hx-boost navigations, which want the whole page.
	Boosted bool
	// Target is the id of the element to be swapped (HX-Target).
	Target string
	// Trigger is the id of the element that triggered the request.
	Trigger string
}

// GetHTMX reads the htmx request headers.
func GetHTMX(c echo.Context) HTMX {
	h := c.Request().Header
	return HTMX{
		Request: h.Get("HX-Request") == "true",
		Boosted: h.Get("HX-Boosted") == "true",
		Target:  h.Get("HX-Target"),
		Trigger: h.Get("HX-Trigger"),
	}
}

// Partial reports whether the response should be the partial alone: htmx
// asked, for a target, and not as a boosted navigation.
func (h HTMX) Partial() bool { return h.Request && !h.Boosted }

// Redirect sends a browser to url: HX-Redirect for htmx, 303 otherwise.
func Redirect(c echo.Context, url string) error {
	if GetHTMX(c).Request {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(200)
	}
	return c.Redirect(303, url)
}
