package views

import (
	"fmt"
	"net/http"
)

func statusText(status int) string {
	return fmt.Sprintf("%d · %s", status, http.StatusText(status))
}
