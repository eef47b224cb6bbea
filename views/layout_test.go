package views

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
)

// TestLayoutConfiguresHTMXForTheCSP: the layout's htmx-config turns off
// what the Content-Security-Policy forbids (eval, inline indicator styles,
// scripts in swapped content) and the history cache, carries no inline
// script or style, and sends the CSRF token on every htmx request.
func TestLayoutConfiguresHTMXForTheCSP(t *testing.T) {
	out := render(t, Home(Page{Title: "Home", CSRF: "tok-123"}))
	m := regexp.MustCompile(`<meta name="htmx-config" content="([^"]*)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no htmx-config meta in the layout")
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &cfg); err != nil {
		t.Fatalf("htmx-config is not JSON: %v", err)
	}
	for key, want := range map[string]any{"allowEval": false, "includeIndicatorStyles": false, "allowScriptTags": false, "historyCacheSize": float64(0), "selfRequestsOnly": true} {
		if cfg[key] != want {
			t.Errorf("htmx-config %s = %v, want %v", key, cfg[key], want)
		}
	}
	if strings.Contains(out, "<style") || strings.Contains(out, " style=") || regexp.MustCompile(`<script(?: [^>]*)?>[^<]`).MatchString(out) {
		t.Error("the layout holds an inline style or script")
	}
	if !strings.Contains(out, `hx-headers="{&#34;X-CSRF-Token&#34;:&#34;tok-123&#34;}"`) {
		t.Error("htmx requests do not carry the CSRF token")
	}
}
