package views

import (
	"strings"
	"testing"
)

// TestHomeCallsToActionAreSpaced: the button and the link beside it sit in
// a spaced row, not run together.
func TestHomeCallsToActionAreSpaced(t *testing.T) {
	html := render(t, Home(Page{Title: "Home"}))
	if !strings.Contains(html, `<p class="row"><a class="button big" href="/signup">Start a free trial</a>`) {
		t.Errorf("the visitor's calls to action are not in a row:\n%s", html)
	}
}
