package stack

import (
	"crypto/rand"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxSlugLen bounds a slug: it becomes a DNS label and part of every Docker
// object name of the tenant.
const MaxSlugLen = 40

// reservedSlugs are host names the portal keeps for itself or that would
// mislead a visitor.
var reservedSlugs = map[string]bool{
	"www": true, "admin": true, "api": true, "portal": true, "static": true,
	"app": true, "apps": true, "assets": true, "auth": true, "login": true,
	"logout": true, "signup": true, "account": true, "mail": true, "smtp": true,
	"ftp": true, "metrics": true, "healthz": true, "status": true, "docs": true,
	"help": true, "support": true, "sales": true, "tenants": true, "localhost": true,
	"appfactory": true, "af": true,
}

// IsReservedSlug reports whether a slug is kept for the portal.
func IsReservedSlug(s string) bool { return reservedSlugs[s] }

// BaseSlug derives a DNS-safe slug from an app name: lowercase a-z, 0-9 and
// single dashes, accents dropped, at most MaxSlugLen characters, never empty
// and never reserved ("admin" becomes "admin-app").
func BaseSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent of the letter before
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= MaxSlugLen {
			break
		}
	}
	s := trimSlug(b.String(), MaxSlugLen)
	if s == "" {
		s = "my-app"
	}
	if s[0] >= '0' && s[0] <= '9' {
		// A label may start with a digit, but an all-digit one reads as an address part.
		s = trimSlug("app-"+s, MaxSlugLen)
	}
	if reservedSlugs[s] {
		s = trimSlug(s+"-app", MaxSlugLen)
	}
	return s
}

// SlugCandidate returns the i-th slug to try for a base (0 is the base
// itself): base-2 ... base-9, then base-<4 random characters>.
func SlugCandidate(base string, i int) string {
	switch {
	case i == 0:
		return base
	case i < 9:
		suffix := "-" + strconv.Itoa(i+1)
		return trimSlug(base, MaxSlugLen-len(suffix)) + suffix
	}
	suffix := "-" + randomSuffix(4)
	return trimSlug(base, MaxSlugLen-len(suffix)) + suffix
}

// trimSlug cuts s to at most n bytes and drops dashes at either end.
func trimSlug(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Trim(s, "-")
}

const suffixAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

func randomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = suffixAlphabet[int(b[i])%len(suffixAlphabet)]
	}
	return string(b)
}

// ValidSlug reports whether s is a slug BaseSlug or SlugCandidate could give.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlugLen || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return !reservedSlugs[s]
}
