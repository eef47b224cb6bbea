package domain

import "strings"

// IsAPIPath reports whether a request path belongs to the JSON API: /api and
// everything below it, and /metrics, which a scraper reads. Such requests
// authenticate by token, carry no session or CSRF token, and get errors as
// JSON.
func IsAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/metrics"
}
