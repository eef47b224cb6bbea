package router

import (
	"net/http"
	"strings"
	"testing"
)

func FuzzStripCookies(f *testing.F) {
	for _, s := range []string{
		"af_session=abc",
		"a=1; af_session=abc; b=2",
		"af_session=; af_session=x",
		";;af_session=x;;",
		"af_session",
		" af_session = x ",
		"a=1",
		"",
	} {
		f.Add(s)
	}
	strip := map[string]bool{"af_session": true}
	f.Fuzz(func(t *testing.T, line string) {
		h := http.Header{"Cookie": {line}}
		stripCookies(h, strip)
		for _, l := range h["Cookie"] {
			for _, part := range strings.Split(l, ";") {
				name, _, _ := strings.Cut(part, "=")
				if strings.TrimSpace(name) == "af_session" {
					t.Fatalf("Cookie %q kept the portal's cookie: %q", line, l)
				}
			}
		}
		// Every other cookie the client sent reaches the app.
		var kept []string
		for _, l := range h["Cookie"] {
			kept = append(kept, l)
		}
		all := strings.Join(kept, ";")
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part != "" && strings.TrimSpace(name) != "af_session" && !strings.Contains(all, part) {
				t.Fatalf("Cookie %q lost %q: %q", line, part, all)
			}
		}
	})
}
