package views

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// wellFormed fails unless s parses as XML (an SVG must, to be drawn inline).
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
	}
}

func TestLineChart(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var cpu, mem []Point
	for i := range 90 {
		if i >= 40 && i < 60 { // a passivated stretch: no samples
			continue
		}
		cpu = append(cpu, Point{At: base.Add(time.Duration(i) * time.Minute), V: float64(i % 7)})
		mem = append(mem, Point{At: base.Add(time.Duration(i) * time.Minute), V: 120})
	}
	cases := []struct {
		name  string
		chart LineChart
		want  []string
	}{
		{"two series with a gap", LineChart{Title: "CPU <and> memory", Desc: "Over the last 90 minutes", Unit: "%",
			Series: []Series{{Name: "cpu", Points: cpu}, {Name: "mem", Points: mem}}},
			[]string{`aria-label="CPU &lt;and&gt; memory"`, `<title>CPU &lt;and&gt; memory</title>`, "<desc>Over the last 90 minutes</desc>", "10:00", "11:00", ">cpu</text>", ">%</text>"}},
		{"empty", LineChart{Title: "Nothing"}, []string{"No data yet", `role="img"`}},
		{"one point", LineChart{Title: "One", Series: []Series{{Name: "x", Points: []Point{{At: base, V: 3}}}}}, []string{"<circle", "x Mar 1 10:00: 3"}},
		{"fixed window without data", LineChart{Title: "Window", From: base, To: base.Add(24 * time.Hour)}, []string{"No data yet", "12:00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, LineChartSVG(tc.chart))
			wellFormed(t, out)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			if strings.Contains(out, "<script") || strings.Contains(out, "style=") || strings.Contains(out, "NaN") {
				t.Errorf("script, inline style or NaN in chart:\n%s", out)
			}
		})
	}
	t.Run("gap breaks the line", func(t *testing.T) {
		g := LineChart{Series: []Series{{Name: "cpu", Points: cpu}}}.layout()
		if n := strings.Count(g.Lines[0].Path, "M"); n != 2 {
			t.Errorf("path has %d segments, want 2: %s", n, g.Lines[0].Path)
		}
	})
}

func TestBarChart(t *testing.T) {
	var bars []Bar
	for h := range 24 {
		bars = append(bars, Bar{Label: time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC).Format("15h"), V: float64(h * 3)})
	}
	out := render(t, BarChartSVG(BarChart{Title: "Activations per hour", Unit: "activations", Bars: bars}))
	wellFormed(t, out)
	if n := strings.Count(out, "<rect"); n != 24 {
		t.Errorf("%d bars, want 24", n)
	}
	for _, w := range []string{"23h: 69 activations", ">00h</text>", "<title>Activations per hour</title>"} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
	empty := render(t, BarChartSVG(BarChart{Title: "None"}))
	wellFormed(t, empty)
	if !strings.Contains(empty, "No data yet") {
		t.Error("empty bar chart says nothing")
	}
	zeros := make([]Bar, 24)
	for h := range zeros {
		zeros[h] = Bar{Label: time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC).Format("15h")}
	}
	quiet := render(t, BarChartSVG(BarChart{Title: "Quiet day", Unit: "activations", Bars: zeros}))
	wellFormed(t, quiet)
	if !strings.Contains(quiet, "No data yet") || !strings.Contains(quiet, ">00h</text>") {
		t.Errorf("a day of zeros does not say so with its hours:\n%s", quiet)
	}
}

func TestNiceMax(t *testing.T) {
	cases := []struct{ in, top, step float64 }{
		{0, 1, 0.25}, {1, 1, 0.25}, {7, 8, 2}, {97, 100, 25}, {3.2e9, 4e9, 1e9}, {0.03, 0.03, 0.01},
	}
	for _, c := range cases {
		top, step := niceMax(c.in)
		if top < c.in || step <= 0 || top/step > 5.0001 || (c.top != 0 && (top != c.top || step != c.step)) {
			t.Errorf("niceMax(%v) = %v, %v; want %v, %v", c.in, top, step, c.top, c.step)
		}
	}
}

func TestSecondSeriesIsDashed(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	pts := []Point{{At: base, V: 1}, {At: base.Add(time.Minute), V: 1}}
	out := render(t, LineChartSVG(LineChart{Title: "Same counts", Series: []Series{{Name: "running", Points: pts}, {Name: "passivated", Points: pts}}}))
	wellFormed(t, out)
	if n := strings.Count(out, `stroke-dasharray="6 3"`); n != 2 {
		t.Errorf("%d dashed strokes, want 2 (the second line and its legend):\n%s", n, out)
	}
	if strings.Contains(out, `stroke-dasharray=""`) {
		t.Error("an empty dash array on the first series")
	}
}

func TestBarLabelsNeverOverlap(t *testing.T) {
	for _, format := range []string{"15h", "15:04", "Jan 2 15:04"} {
		t.Run(format, func(t *testing.T) {
			var bars []Bar
			for h := range 24 {
				bars = append(bars, Bar{Label: time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC).Format(format), V: 1})
			}
			prev, n := -1e9, 0
			for _, b := range (BarChart{Bars: bars}).layout().Bars {
				if b.Label == "" {
					continue
				}
				if b.LabelX-prev < float64(charW*len(b.Label)) {
					t.Errorf("label %q at %.1f overlaps the one at %.1f", b.Label, b.LabelX, prev)
				}
				prev = b.LabelX
				n++
			}
			if n < 3 {
				t.Errorf("only %d labels", n)
			}
		})
	}
}
