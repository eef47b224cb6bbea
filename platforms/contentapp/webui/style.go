package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"appfactory/platforms/contentapp/content"
)

// baseCSS is the fixed part of the stylesheet; the colours come from the
// model through custom properties.
const baseCSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2330;background:#f6f7f9}
a{color:var(--primary)}
.bar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:1rem;padding:.75rem 1.5rem;background:var(--primary);color:var(--on-primary)}
.bar h1{margin:0;font-size:1.5rem}
.bar h1 a{color:inherit;text-decoration:none}
.search{display:flex;gap:.25rem}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}
section{background:#fff;border:1px solid #dde1e8;border-radius:.5rem;padding:1rem 1.25rem;margin:1rem 0}
h2{margin-top:0;font-size:1.25rem}
h2 .count{display:inline-block;min-width:1.6em;padding:0 .4em;border-radius:1em;background:var(--primary);color:var(--on-primary);font-size:.9rem;text-align:center}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eef0f4}
fieldset{border:1px solid #dde1e8;border-radius:.5rem;margin:.75rem 0}
label{display:block;margin-top:.5rem;font-weight:600}
label.check{font-weight:400}
input,select,textarea{font:inherit;padding:.3rem .5rem;border:1px solid #b9c0cc;border-radius:.3rem;max-width:100%}
button{font:inherit;margin-top:.75rem;padding:.35rem .9rem;border:0;border-radius:.3rem;background:var(--primary);color:var(--on-primary);cursor:pointer}
.search button,form.inline button{margin-top:0}
form.inline{display:inline-block;margin-right:.5rem}
.error{color:#a4161a;font-weight:600}
.notice{padding:.5rem 1rem;border-left:4px solid #a4161a;background:#fff}
.meta,.counts{color:#5a6275;font-size:.9rem}
.state{padding:0 .5em;border-radius:.3em;background:#eef0f4}
.state-published{background:var(--primary);color:var(--on-primary)}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}
dd{margin:0}
footer{max-width:60rem;margin:0 auto;padding:1rem 1.5rem;color:#5a6275;font-size:.85rem}
`

// stylesheet returns app.css for the colour and its ETag.
func stylesheet(color string) ([]byte, string) {
	if !content.ValidColor(color) {
		color = content.DefaultColor
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, ":root{--primary:%s;--on-primary:%s}\n", color, onColor(color))
	b.WriteString(baseCSS)
	sum := sha256.Sum256(b.Bytes())
	return b.Bytes(), `"` + hex.EncodeToString(sum[:8]) + `"`
}

// onColor picks black or white text, whichever reads better on color
// (WCAG relative luminance).
func onColor(color string) string {
	lin := func(s string) float64 {
		v, _ := strconv.ParseUint(s, 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(color[1:3]) + 0.7152*lin(color[3:5]) + 0.0722*lin(color[5:7])
	// Above 0.179 black text has the higher contrast ratio.
	if l > 0.179 {
		return "#111111"
	}
	return "#ffffff"
}

func (a *App) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("ETag", a.cssTag)
	http.ServeContent(w, r, "app.css", time.Time{}, bytes.NewReader(a.css))
}
