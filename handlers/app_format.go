package handlers

import (
	"fmt"
	"strconv"
	"time"

	"appfactory/catalog"
)

// durationText says a lifetime in words: "7 days", "15 minutes"; none for 0.
func durationText(d time.Duration, none string) string {
	switch {
	case d <= 0:
		return none
	case d%(24*time.Hour) == 0:
		return countText(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return countText(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return countText(int(d/time.Minute), "minute")
	}
	return d.String()
}

func countText(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// bytesText says a size in binary units: "256 MiB", "1.5 GiB".
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if v == float64(int64(v)) {
		s = strconv.FormatInt(int64(v), 10)
	}
	return s + " " + string("KMGT"[exp]) + "iB"
}

// timeText is how pages show a stored time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// envDetails sums up an environment's limits in a line.
func envDetails(e *catalog.Environment) string {
	return fmt.Sprintf("lifetime %s · idle timeout %s · %s and %s CPU per container · up to %s",
		durationText(e.TTL, "unlimited"), durationText(e.IdleTimeout, "never"), bytesText(e.MemoryBytes),
		strconv.FormatFloat(e.CPUs, 'f', -1, 64), countText(e.MaxReplicas, "replica"))
}
