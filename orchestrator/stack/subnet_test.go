package stack

import (
	"testing"
	"time"

	"appfactory/apperr"
)

func TestNewSubnetPool(t *testing.T) {
	tests := []struct {
		cidr string
		ok   bool
		size int
	}{
		{DefaultSubnetPool, true, 4096},
		{"10.1.2.0/24", true, 16},
		{"10.1.2.0/28", true, 1},
		{"10.1.2.0/29", false, 0},
		{"10.1.2.1/24", false, 0},
		{"fd00::/64", false, 0},
		{"nonsense", false, 0},
		{"10.0.0.0/7", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			p, err := NewSubnetPool(tt.cidr)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && p.Size() != tt.size {
				t.Errorf("size %d, want %d", p.Size(), tt.size)
			}
		})
	}
}

func TestSubnetPoolPick(t *testing.T) {
	p, err := NewSubnetPool("10.9.0.0/26")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	used := map[string]bool{}
	var got []string
	for range 3 {
		s, err := p.Pick(used)
		if err != nil {
			t.Fatal(err)
		}
		used[s] = true
		got = append(got, s)
	}
	want := []string{"10.9.0.0/28", "10.9.0.16/28", "10.9.0.32/28"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picks %v, want %v", got, want)
		}
	}
	p.Block("10.9.0.48/28")
	if _, err := p.Pick(used); apperr.Code(err) != apperr.Unavailable {
		t.Fatalf("full pool: %v", err)
	}
	delete(used, "10.9.0.16/28")
	if s, _ := p.Pick(used); s != "10.9.0.16/28" {
		t.Fatalf("freed subnet not reused: %s", s)
	}
	used["10.9.0.16/28"] = true
	now = now.Add(blockFor + time.Second)
	if s, _ := p.Pick(used); s != "10.9.0.48/28" {
		t.Fatalf("block did not expire: %s", s)
	}
	if !p.Contains("10.9.0.48/28") || p.Contains("10.9.1.0/28") || p.Contains("10.9.0.0/24") {
		t.Error("Contains")
	}
}
