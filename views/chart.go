package views

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Point is one value of a time series.
type Point struct {
	At time.Time
	V  float64
}

// Series is a named line of a chart.
type Series struct {
	Name   string
	Points []Point
}

// LineChart is a server-rendered SVG chart of time series.
type LineChart struct {
	// Title names the chart for screen readers (aria-label and <title>).
	Title string
	// Desc says in words what the chart shows (<desc>).
	Desc string
	// Unit labels the y axis, like "MiB" or "tenants".
	Unit   string
	Series []Series
	// From and To bound the x axis; zero takes the data's extent.
	From, To time.Time
	// Format writes a y value; the default drops needless decimals.
	Format func(float64) string
}

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	V     float64
	// Hint is the bar's tooltip (<title>); the default is "Label: value".
	Hint string
}

// BarChart is a server-rendered SVG bar chart.
type BarChart struct {
	Title  string
	Desc   string
	Unit   string
	Bars   []Bar
	Format func(float64) string
}

// Chart geometry, in SVG user units; the SVG scales to its container.
const (
	chartW      = 480
	chartH      = 210
	chartLeft   = 46
	chartRight  = 12
	chartTop    = 30
	chartBottom = 26
	// charW is the width of a label character, for laying out the legend.
	charW = 7
)

// seriesColors are presentation attributes (not styles), so the charts
// need nothing from the CSP.
var seriesColors = []string{"#4f46e5", "#0ea5e9", "#d97706", "#16a34a", "#db2777"}

// chartTick is a labelled grid line.
type chartTick struct {
	Pos   float64
	Label string
}

// chartLine is one drawn series.
type chartLine struct {
	Name  string
	Color string
	// Dash is the stroke-dasharray of every other series, so that lines
	// that run together stay apart and the legend does not rely on colour.
	Dash    string
	Path    string
	Dots    []chartDot
	LegendX float64
}

// chartDot marks a point that stands alone or is few enough to label.
type chartDot struct {
	X, Y float64
	Hint string
}

// lineGeom is a LineChart laid out.
type lineGeom struct {
	XTicks, YTicks []chartTick
	Lines          []chartLine
	Empty          bool
}

// barGeom is a BarChart laid out.
type barGeom struct {
	YTicks []chartTick
	Bars   []barRect
	Empty  bool
}

// barRect is one drawn bar.
type barRect struct {
	X, Y, W, H float64
	Label      string
	LabelX     float64
	Hint       string
}

func (c LineChart) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return FormatNumber(v)
}

func (c BarChart) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return FormatNumber(v)
}

// FormatNumber writes a number with at most two significant decimals.
func FormatNumber(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case a >= 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// plot area
func plotW() float64 { return chartW - chartLeft - chartRight }
func plotH() float64 { return chartH - chartTop - chartBottom }

// niceMax rounds a maximum up to 1, 2, 2.5 or 5 times a power of ten, and
// returns it with its tick step (four or five steps).
func niceMax(max float64) (float64, float64) {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 1, 0.25
	}
	raw := max / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*mag >= raw {
			step = f * mag
			break
		}
	}
	return step * math.Ceil(max/step-1e-9), step
}

func yTicks(top, step float64, format func(float64) string) []chartTick {
	var ticks []chartTick
	for v := 0.0; v <= top+step/2; v += step {
		ticks = append(ticks, chartTick{Pos: chartTop + plotH() - v/top*plotH(), Label: format(v)})
	}
	return ticks
}

// timeSteps are the spacings the x axis may use.
var timeSteps = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

func xTicks(from, to time.Time) []chartTick {
	span := to.Sub(from)
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s <= 6 {
			step = s
			break
		}
	}
	layout := "15:04"
	if span > 48*time.Hour {
		layout = "Jan 2"
	}
	var ticks []chartTick
	for t := from.Truncate(step); !t.After(to); t = t.Add(step) {
		if t.Before(from) {
			continue
		}
		ticks = append(ticks, chartTick{Pos: chartLeft + float64(t.Sub(from))/float64(span)*plotW(), Label: t.UTC().Format(layout)})
	}
	return ticks
}

// layout computes the chart's geometry. A series breaks where samples are
// missing (more than 2.5 times its usual spacing apart), so that a stopped
// tenant shows as a gap, not as a slope.
func (c LineChart) layout() lineGeom {
	var minT, maxT time.Time
	max, n := 0.0, 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if n == 0 || p.At.Before(minT) {
				minT = p.At
			}
			if n == 0 || p.At.After(maxT) {
				maxT = p.At
			}
			max = math.Max(max, p.V)
			n++
		}
	}
	from, to := c.From, c.To
	if from.IsZero() {
		from = minT
	}
	if to.IsZero() {
		to = maxT
	}
	if from.IsZero() || to.IsZero() {
		return lineGeom{Empty: true, YTicks: yTicks(1, 0.25, c.format)}
	}
	if !to.After(from) {
		from, to = from.Add(-time.Minute), to.Add(time.Minute)
	}
	top, step := niceMax(max)
	g := lineGeom{XTicks: xTicks(from, to), YTicks: yTicks(top, step, c.format), Empty: n == 0}
	x := func(t time.Time) float64 { return chartLeft + float64(t.Sub(from))/float64(to.Sub(from))*plotW() }
	y := func(v float64) float64 { return chartTop + plotH() - math.Max(v, 0)/top*plotH() }
	// The legend follows the unit, which stands above the y axis.
	legendX := math.Max(chartLeft, 4+charW*float64(len(c.Unit))+16)
	for i, s := range c.Series {
		l := chartLine{Name: s.Name, Color: seriesColors[i%len(seriesColors)], LegendX: legendX}
		if i%2 == 1 {
			l.Dash = "6 3"
		}
		legendX += 26 + charW*float64(len(s.Name))
		gap := typicalGap(s.Points) * 5 / 2
		var b strings.Builder
		for j, p := range s.Points {
			cmd := "L"
			alone := false
			if j == 0 || gap > 0 && p.At.Sub(s.Points[j-1].At) > gap {
				cmd = "M"
				next := j + 1
				alone = next >= len(s.Points) || gap > 0 && s.Points[next].At.Sub(p.At) > gap
			}
			fmt.Fprintf(&b, "%s%.1f,%.1f ", cmd, x(p.At), y(p.V))
			if alone || len(s.Points) <= 48 {
				l.Dots = append(l.Dots, chartDot{X: x(p.At), Y: y(p.V), Hint: fmt.Sprintf("%s %s: %s %s", s.Name, p.At.UTC().Format("Jan 2 15:04"), c.format(p.V), c.Unit)})
			}
		}
		l.Path = strings.TrimSpace(b.String())
		g.Lines = append(g.Lines, l)
	}
	return g
}

// typicalGap is the median spacing of a series' points (zero for fewer than two).
func typicalGap(ps []Point) time.Duration {
	if len(ps) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(ps)-1)
	for i := 1; i < len(ps); i++ {
		gaps = append(gaps, ps[i].At.Sub(ps[i-1].At))
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// layout computes a bar chart's geometry; labels thin out so they never overlap.
func (c BarChart) layout() barGeom {
	max := 0.0
	for _, b := range c.Bars {
		max = math.Max(max, b.V)
	}
	top, step := niceMax(max)
	// Bars that are all zero (no activation in a day, say) draw nothing:
	// the chart says so rather than show a blank frame.
	g := barGeom{YTicks: yTicks(top, step, c.format), Empty: max <= 0}
	if len(c.Bars) == 0 {
		return g
	}
	slot := plotW() / float64(len(c.Bars))
	// A label needs its characters' width and a little room either side.
	widest := 0
	for _, b := range c.Bars {
		if len(b.Label) > widest {
			widest = len(b.Label)
		}
	}
	every := int(math.Ceil(float64(charW*widest+10) / slot))
	if every < 1 {
		every = 1
	}
	for i, b := range c.Bars {
		h := math.Max(b.V, 0) / top * plotH()
		r := barRect{X: chartLeft + float64(i)*slot + slot*0.15, W: slot * 0.7, Y: chartTop + plotH() - h, H: h, Hint: b.Hint}
		if r.Hint == "" {
			r.Hint = fmt.Sprintf("%s: %s %s", b.Label, c.format(b.V), c.Unit)
		}
		if i%every == 0 {
			r.Label, r.LabelX = b.Label, chartLeft+float64(i)*slot+slot/2
		}
		g.Bars = append(g.Bars, r)
	}
	return g
}

// f1 writes an SVG coordinate.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// viewBox is the charts' coordinate system.
func viewBox() string { return fmt.Sprintf("0 0 %d %d", chartW, chartH) }
