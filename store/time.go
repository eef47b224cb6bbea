package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// TimeFormat is how times are stored: UTC, fixed width, so text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// Time is a time as a column holds it: TimeFormat text, or NULL for the
// zero time. It scans NULL and "" as the zero time, so one type serves the
// optional columns (expires_at, deleted_at) and the required ones.
type Time struct{ time.Time }

// TimeOf wraps t, in UTC, for a column.
func TimeOf(t time.Time) Time { return Time{t.UTC()} }

// Scan reads a stored time: TimeFormat text (or any RFC 3339 text, which
// older rows may hold), NULL or "" for the zero time.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
		return nil
	case time.Time:
		t.Time = v.UTC()
		return nil
	case []byte:
		return t.parse(string(v))
	case string:
		return t.parse(v)
	}
	return fmt.Errorf("store: cannot scan %T into a time", src)
}

func (t *Time) parse(s string) error {
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	p, err := time.Parse(TimeFormat, s)
	if err != nil {
		if p, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("store: stored time %q: %w", s, err)
		}
	}
	t.Time = p.UTC()
	return nil
}

// Value writes the time as TimeFormat text; the zero time as NULL.
func (t Time) Value() (driver.Value, error) {
	if t.IsZero() {
		return nil, nil
	}
	return formatTime(t.Time), nil
}

// MarshalJSON writes the time as the column holds it (RFC 3339 text in
// TimeFormat); the zero time as null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + formatTime(t.Time) + `"`), nil
}

// formatTime formats t as a query argument compared with stored times. Unlike
// a Time's Value it writes the zero time as text too, which sorts before
// every stored time ("since the zero time" matches every row).
func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }
