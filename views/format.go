package views

import (
	"fmt"
	"net/http"
	"time"
)

func statusText(status int) string {
	return fmt.Sprintf("%d · %s", status, http.StatusText(status))
}

// Span writes a duration for people ("30 min", "2 h", "7 days"), or none
// when it is zero.
func Span(d time.Duration, none string) string { return span(d, none) }
