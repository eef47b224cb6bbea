package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"appfactory/store"
)

func TestTimeScansWhatTheStoreWrites(t *testing.T) {
	want := time.Date(2026, 3, 4, 5, 6, 7, 89, time.UTC)
	for _, tc := range []struct {
		name string
		src  any
		want time.Time
	}{
		{"NULL", nil, time.Time{}},
		{"empty", "", time.Time{}},
		{"TimeFormat", "2026-03-04T05:06:07.000000089Z", want},
		{"TimeFormat bytes", []byte("2026-03-04T05:06:07.000000089Z"), want},
		{"RFC 3339 with an offset", "2026-03-04T07:06:07.000000089+02:00", want},
		{"RFC 3339 without fraction", "2026-03-04T05:06:07Z", want.Truncate(time.Second)},
		{"driver time", want.In(time.FixedZone("x", 3600)), want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got store.Time
			if err := got.Scan(tc.src); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("got %v, want %v in UTC", got.Time, tc.want)
			}
		})
	}
	var bad store.Time
	if err := bad.Scan("yesterday"); err == nil {
		t.Error("scanned an unparseable time without an error")
	}
	if err := bad.Scan(42); err == nil {
		t.Error("scanned an integer without an error")
	}
}

func TestTimeWritesFixedWidthTextAndNullForZero(t *testing.T) {
	v, err := store.TimeOf(time.Date(2026, 3, 4, 6, 6, 7, 0, time.FixedZone("x", 3600))).Value()
	if err != nil || v != "2026-03-04T05:06:07.000000000Z" {
		t.Errorf("value %v, %v", v, err)
	}
	if v, err := (store.Time{}).Value(); err != nil || v != nil {
		t.Errorf("zero time written as %v, %v; want NULL", v, err)
	}
	b, err := json.Marshal(struct {
		At  store.Time `json:"at"`
		Not store.Time `json:"not"`
	}{At: store.TimeOf(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))})
	if err != nil || string(b) != `{"at":"2026-03-04T05:06:07.000000000Z","not":null}` {
		t.Errorf("json %s, %v", b, err)
	}
}

// Text order is time order: a later time never sorts before an earlier one.
func TestTimeTextOrderIsTimeOrder(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for _, d := range []time.Duration{0, time.Nanosecond, time.Millisecond, time.Second, time.Hour, 24 * 365 * time.Hour} {
		v, _ := store.TimeOf(base.Add(d)).Value()
		if s := v.(string); s <= prev {
			t.Fatalf("%s sorts before %s", s, prev)
		} else {
			prev = s
		}
	}
}
