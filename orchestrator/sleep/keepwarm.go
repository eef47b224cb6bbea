package sleep

import (
	"fmt"
	"strings"
	"time"

	// A scratch image has no zone files: keep-warm windows name zones
	// like Europe/Paris, so the binary carries the database.
	_ "time/tzdata"
)

// Window is one keep-warm window: on its days, from start to end in its
// zone. An end at or before the start runs past midnight into the next
// day.
type Window struct {
	Days       [7]bool // by time.Weekday
	Start, End int     // minutes after midnight; End may be 1440
	Zone       *time.Location
}

// Windows is a tenant's keep-warm windows.
type Windows []Window

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// MaxWindows bounds how many windows a policy may list.
const MaxWindows = 8

// ParseWindows reads keep-warm windows separated by ";", each like
// "mon-fri 09:00-18:00 Europe/Paris": days (mon…sun, ranges like mon-fri,
// lists like mon,wed, or daily, weekdays, weekends), a time range, and an
// optional IANA zone (UTC when left out). The empty string has no window.
func ParseWindows(s string) (Windows, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if len(s) > 512 {
		return nil, fmt.Errorf("keep-warm windows: at most 512 characters")
	}
	var out Windows
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		w, err := parseWindow(part)
		if err != nil {
			return nil, fmt.Errorf("keep-warm window %q: %w", part, err)
		}
		out = append(out, w)
	}
	if len(out) > MaxWindows {
		return nil, fmt.Errorf("keep-warm windows: at most %d", MaxWindows)
	}
	return out, nil
}

func parseWindow(s string) (Window, error) {
	f := strings.Fields(s)
	if len(f) < 2 || len(f) > 3 {
		return Window{}, fmt.Errorf(`want days, a time range and an optional zone, like "mon-fri 09:00-18:00 Europe/Paris"`)
	}
	w := Window{Zone: time.UTC}
	if err := w.parseDays(strings.ToLower(f[0])); err != nil {
		return Window{}, err
	}
	from, to, ok := strings.Cut(f[1], "-")
	if !ok {
		return Window{}, fmt.Errorf("time range %q: want HH:MM-HH:MM", f[1])
	}
	var err error
	if w.Start, err = parseClock(from, false); err != nil {
		return Window{}, err
	}
	if w.End, err = parseClock(to, true); err != nil {
		return Window{}, err
	}
	if w.Start == w.End {
		return Window{}, fmt.Errorf("time range %q is empty", f[1])
	}
	if len(f) == 3 {
		// LoadLocation also reads files by path: only zone names pass.
		if strings.HasPrefix(f[2], "/") || strings.Contains(f[2], "..") || f[2] == "Local" {
			return Window{}, fmt.Errorf("unknown time zone %q", f[2])
		}
		if w.Zone, err = time.LoadLocation(f[2]); err != nil {
			return Window{}, fmt.Errorf("unknown time zone %q", f[2])
		}
	}
	return w, nil
}

func (w *Window) parseDays(s string) error {
	switch s {
	case "daily":
		s = "sun-sat"
	case "weekdays":
		s = "mon-fri"
	case "weekends":
		s = "sat,sun"
	}
	for _, item := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, err := parseDay(a)
		if err != nil {
			return err
		}
		to := from
		if isRange {
			if to, err = parseDay(b); err != nil {
				return err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == to {
				break
			}
		}
	}
	return nil
}

func parseDay(s string) (int, error) {
	for i, n := range dayNames {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q: use mon, tue, wed, thu, fri, sat, sun, daily, weekdays or weekends", s)
}

func parseClock(s string, end bool) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	if end && h == 24 && m == 0 {
		return 24 * 60, nil
	}
	if h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, fmt.Errorf("time %q is not a time of day", s)
	}
	return h*60 + m, nil
}

// Contains reports whether t falls in the window.
func (w Window) Contains(t time.Time) bool {
	t = t.In(w.Zone)
	min := t.Hour()*60 + t.Minute()
	day := int(t.Weekday())
	if w.Start < w.End {
		return w.Days[day] && min >= w.Start && min < w.End
	}
	// Past midnight: the evening of a listed day, or the morning after.
	return (w.Days[day] && min >= w.Start) || (w.Days[(day+6)%7] && min < w.End)
}

// Contains reports whether t falls in any of the windows.
func (ws Windows) Contains(t time.Time) bool {
	for _, w := range ws {
		if w.Contains(t) {
			return true
		}
	}
	return false
}

// String writes the windows in the form ParseWindows reads.
func (ws Windows) String() string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.String()
	}
	return strings.Join(parts, "; ")
}

func (w Window) String() string {
	s := fmt.Sprintf("%s %02d:%02d-%02d:%02d", w.daysString(), w.Start/60, w.Start%60, w.End/60, w.End%60)
	if w.Zone != nil && w.Zone != time.UTC {
		s += " " + w.Zone.String()
	}
	return s
}

// daysString writes the days in week order from Monday, runs of three or
// more as ranges: "mon-fri", "mon,wed", "sat,sun".
func (w Window) daysString() string {
	if w.Days == [7]bool{true, true, true, true, true, true, true} {
		return "daily"
	}
	var parts []string
	for i := 0; i < 7; {
		d := (i + 1) % 7 // Monday first
		if !w.Days[d] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.Days[(j+2)%7] {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, dayNames[d]+"-"+dayNames[(j+1)%7])
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, dayNames[(k+1)%7])
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
