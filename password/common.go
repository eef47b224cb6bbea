package password

import (
	_ "embed"
	"strings"
	"sync"
)

// commonList holds passwords that appear at the top of every leaked-password
// ranking, one a line, lower case; only those of MinLength or more matter,
// since shorter ones are refused anyway.
//
//go:embed common.txt
var commonList string

// common is the parsed list, built once on first use (read-only afterwards).
var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, line := range strings.Split(commonList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
	return m
})

// IsCommon reports whether pw, ignoring case and surrounding spaces, is on
// the list of common passwords.
func IsCommon(pw string) bool {
	_, ok := common()[strings.ToLower(strings.TrimSpace(pw))]
	return ok
}
