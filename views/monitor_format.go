package views

import (
	"fmt"
	"math"
	"time"
)

// Ago writes how long before now t was: "just now", "5 min ago", "3 h ago",
// "2 days ago"; "never" for the zero time.
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// Remaining writes the time left until t: "3 days 4 h left", "25 min left",
// "expired"; "no expiry" for the zero time.
func Remaining(t, now time.Time) string {
	if t.IsZero() {
		return "no expiry"
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d < time.Hour:
		return fmt.Sprintf("%d min left", max(int(d/time.Minute), 1))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min left", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%d days %d h left", days, int(d%(24*time.Hour)/time.Hour))
}

// Bytes writes a size in binary units: "512 MiB", "1.5 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, exp := float64(n), 0
	for v >= unit && exp < 5 {
		v /= unit
		exp++
	}
	suffix := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// Percent writes a share of one as a whole percentage.
func Percent(share float64) string {
	if math.IsNaN(share) || math.IsInf(share, 0) {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", share*100)
}

// Stamp is a time as tables and timelines show it.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("Jan 2 15:04:05")
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
