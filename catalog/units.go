package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a Go duration ("90s", "15m", "168h") or a number of
// days ("7d"). "0", "none", "never" and "off" mean no duration at all.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "0", "none", "never", "off":
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("want a number of days from 0 to 3650, not %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration like 90s, 15m, 168h or 7d, or none, not %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("a duration cannot be negative (%q)", s)
	}
	return d, nil
}

// sizeUnit returns the binary multiplier of a unit, as Docker reads "256m".
func sizeUnit(u string) (int64, bool) {
	switch u {
	case "", "b":
		return 1, true
	case "k", "kb", "ki", "kib":
		return 1 << 10, true
	case "m", "mb", "mi", "mib":
		return 1 << 20, true
	case "g", "gb", "gi", "gib":
		return 1 << 30, true
	}
	return 0, false
}

// parseSize reads a byte size: a plain number of bytes or a number with a
// binary unit ("256MiB", "512m", "1GiB").
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult, ok := sizeUnit(unit)
	if !ok || num == "" {
		return 0, fmt.Errorf("want a size like 256MiB or 1GiB, not %q", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("want a size like 256MiB or 1GiB, not %q", s)
	}
	return int64(v * float64(mult)), nil
}
