package stack

import (
	"strings"
	"testing"
)

func TestBaseSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Acme", "acme"},
		{"Acme Docs 2", "acme-docs-2"},
		{"  --Hello,   World!--  ", "hello-world"},
		{"Café Crème", "cafe-creme"},
		{"ÅNGSTRÖM lab", "angstrom-lab"},
		{"日本語", "my-app"},
		{"", "my-app"},
		{"App", "app-app"},
		{"admin", "admin-app"},
		{"WWW", "www-app"},
		{"api", "api-app"},
		{"portal", "portal-app"},
		{"static", "static-app"},
		{"2024 plan", "app-2024-plan"},
		{strings.Repeat("abcdefghij", 6), "abcdefghijabcdefghijabcdefghijabcdefghij"},
		{"a" + strings.Repeat(" ", 50) + "b", "a-b"},
		{strings.Repeat("x", 39) + " y", strings.Repeat("x", 39)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BaseSlug(tt.name)
			if got != tt.want {
				t.Errorf("BaseSlug(%q) = %q, want %q", tt.name, got, tt.want)
			}
			if !ValidSlug(got) {
				t.Errorf("BaseSlug(%q) = %q is not a valid slug", tt.name, got)
			}
		})
	}
}

func TestSlugCandidate(t *testing.T) {
	long := strings.Repeat("x", MaxSlugLen)
	tests := []struct {
		base string
		i    int
		want string
	}{
		{"acme", 0, "acme"},
		{"acme", 1, "acme-2"},
		{"acme", 8, "acme-9"},
		{long, 1, strings.Repeat("x", MaxSlugLen-2) + "-2"},
	}
	for _, tt := range tests {
		if got := SlugCandidate(tt.base, tt.i); got != tt.want {
			t.Errorf("SlugCandidate(%q, %d) = %q, want %q", tt.base, tt.i, got, tt.want)
		}
	}
	seen := map[string]bool{}
	for i := 9; i < 30; i++ {
		s := SlugCandidate(long, i)
		if !ValidSlug(s) || len(s) != MaxSlugLen || !strings.HasPrefix(s, strings.Repeat("x", MaxSlugLen-5)+"-") {
			t.Errorf("random candidate %q", s)
		}
		seen[s] = true
	}
	if len(seen) < 15 {
		t.Errorf("random candidates repeat: %d distinct of 21", len(seen))
	}
}

func FuzzBaseSlug(f *testing.F) {
	for _, s := range []string{"Acme", "admin", "", "Ünïcödé ✓", "-a-", "1", strings.Repeat("é", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := BaseSlug(name)
		if !ValidSlug(s) {
			t.Fatalf("BaseSlug(%q) = %q: not a valid slug", name, s)
		}
		for i := 1; i < 12; i++ {
			if c := SlugCandidate(s, i); !ValidSlug(c) {
				t.Fatalf("SlugCandidate(%q, %d) = %q", s, i, c)
			}
		}
	})
}
