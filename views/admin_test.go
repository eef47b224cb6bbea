package views

import (
	"strings"
	"testing"
	"time"
)

func TestCapacityCardCountsInWords(t *testing.T) {
	cases := []struct {
		name                string
		containers, tenants int
		want                string
	}{
		{"one of each", 1, 1, ">container of 1 running tenant<"},
		{"several containers, one tenant", 2, 1, ">containers of 1 running tenant<"},
		{"none", 0, 0, ">containers of 0 running tenants<"},
		{"many", 6, 3, ">containers of 3 running tenants<"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			html := render(t, capacityCard(CapacityView{Known: true, HostMemBytes: 1 << 30, HostCPUs: 2, RunningContainers: tc.containers, RunningTenants: tc.tenants}))
			if !strings.Contains(html, tc.want) {
				t.Errorf("want %q in\n%s", tc.want, html)
			}
		})
	}
}

func TestAdminDashboardSaysWhatActiveMeans(t *testing.T) {
	html := render(t, AdminDashboardPage(Page{Title: "Tenants"}, AdminDashboard{Live: 4, ActiveNow: 1}))
	for _, want := range []string{">25%<", "active now: 1 of 4 used in the last 5 min"} {
		if !strings.Contains(html, want) {
			t.Errorf("want %q in the dashboard", want)
		}
	}
}

func TestUserDatesReadLikeTheOthers(t *testing.T) {
	cases := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 5, 9, 7, 0, 0, time.UTC), "5 Nov 2026 09:07 UTC"},
		{time.Date(2026, 11, 5, 23, 30, 0, 0, time.FixedZone("x", -3600)), "6 Nov 2026 00:30 UTC"},
		{time.Time{}, "never"},
	}
	for _, c := range cases {
		if got := when(c.in); got != c.want {
			t.Errorf("when(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
