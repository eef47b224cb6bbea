package web

import (
	"context"
	"io"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Swap is a partial for RenderEither that answers only an htmx swap of the
// element whose id is Target (any element when Target is empty), with
// Status instead of the page's when Status is not zero.
type Swap struct {
	templ.Component
	Target string
	Status int
}

// Deferred is a component built only when it is chosen, so that what only
// the page (or only the partial) needs is loaded for it alone; an error
// from build is returned before anything is written, as a handler's would.
func Deferred(build func() (templ.Component, error)) templ.Component {
	return deferred(build)
}

type deferred func() (templ.Component, error)

func (d deferred) Render(ctx context.Context, w io.Writer) error {
	comp, err := d()
	if err != nil {
		return err
	}
	return comp.Render(ctx, w)
}

// Swaps reports whether the response should be a partial alone: htmx asked
// (not as a boosted navigation) and, when target is not empty, for the
// element with that id.
func (h HTMX) Swaps(target string) bool {
	return h.Partial() && (target == "" || h.Target == target)
}

// RenderEither renders partial alone for an htmx swap of its target (see
// Swap) and the whole page otherwise: the one place that decides.
func RenderEither(c echo.Context, status int, page, partial templ.Component) error {
	comp, target := page, ""
	sw, isSwap := partial.(Swap)
	if isSwap {
		target = sw.Target
	}
	if GetHTMX(c).Swaps(target) {
		comp = partial
		if isSwap {
			comp = sw.Component
			if sw.Status != 0 {
				status = sw.Status
			}
		}
	}
	return Render(c, status, comp)
}
