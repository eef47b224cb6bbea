package sleep

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindows(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in, canon string
		in1, out1 time.Time // a time inside and one outside
	}{
		{"mon-fri 09:00-18:00 Europe/Paris", "mon-fri 09:00-18:00 Europe/Paris",
			time.Date(2026, 12, 7, 9, 0, 0, 0, paris), time.Date(2026, 12, 7, 18, 0, 0, 0, paris)},
		{"weekdays 09:00-18:00 Europe/Paris", "mon-fri 09:00-18:00 Europe/Paris",
			time.Date(2026, 12, 4, 17, 59, 0, 0, paris), time.Date(2026, 12, 5, 12, 0, 0, 0, paris)},
		{"daily 22:00-02:00", "daily 22:00-02:00",
			time.Date(2026, 12, 6, 1, 30, 0, 0, time.UTC), time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)},
		{"fri 22:00-02:00", "fri 22:00-02:00",
			time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)},
		{"MON,wed 08:00-24:00", "mon,wed 08:00-24:00",
			time.Date(2026, 12, 9, 23, 59, 0, 0, time.UTC), time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)},
		{"weekends 10:00-12:00; tue 10:00-11:00", "sat,sun 10:00-12:00; tue 10:00-11:00",
			time.Date(2026, 12, 8, 10, 30, 0, 0, time.UTC), time.Date(2026, 12, 9, 10, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ws, err := ParseWindows(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ws.String(); got != tc.canon {
				t.Errorf("String() = %q, want %q", got, tc.canon)
			}
			if !ws.Contains(tc.in1) {
				t.Errorf("%s not in %s", tc.in1, tc.in)
			}
			if ws.Contains(tc.out1) {
				t.Errorf("%s in %s", tc.out1, tc.in)
			}
			again, err := ParseWindows(ws.String())
			if err != nil || again.String() != ws.String() {
				t.Errorf("canonical form does not read back: %v %q", err, again)
			}
		})
	}
}

func TestParseWindowsRefuses(t *testing.T) {
	for _, in := range []string{
		"mon-fri", "mon-fri 9-18", "funday 09:00-10:00", "mon 09:00-09:00", "mon 25:00-26:00",
		"mon 09:00-10:00 Mars/Olympus", "mon 09:00-10:00 /etc/localtime", "mon 09:00-10:00 ../../etc/passwd",
		"mon 09:00-10:00 UTC extra", strings.Repeat("mon 09:00-10:00;", 9), strings.Repeat("x", 600),
	} {
		if _, err := ParseWindows(in); err == nil {
			t.Errorf("ParseWindows(%q) accepted", in)
		}
	}
}

func FuzzParseWindows(f *testing.F) {
	for _, s := range []string{"mon-fri 09:00-18:00 Europe/Paris", "daily 22:00-02:00", "sat,sun 10:00-12:00; tue 10:00-11:00", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := ParseWindows(s)
		if err != nil {
			return
		}
		again, err := ParseWindows(ws.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", ws.String(), s, err)
		}
		if again.String() != ws.String() {
			t.Fatalf("canonical form changes: %q then %q", ws.String(), again.String())
		}
		_ = ws.Contains(time.Now())
	})
}
