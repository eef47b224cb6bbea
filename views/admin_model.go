package views

import (
	"net/url"
	"strconv"
	"time"
)

// AdminDashboard is the admin's view of every tenant: counts, activity,
// capacity, charts over time and the tenant table.
type AdminDashboard struct {
	Counts []StateCount
	// Live counts tenants not deleted.
	Live int
	// ActiveNow counts tenants with a request in the last minutes or one in flight.
	ActiveNow int
	Capacity  CapacityView
	Budget    BudgetView
	Tenancy   LineChart
	Activity  BarChart
	Latency   BarChart
	Table     TenantTable
	// Awake ranks tenants by time awake without use, last 7 days.
	Awake []AwakeRow
}

// ActiveShare is the share of live tenants active now.
func (d AdminDashboard) ActiveShare() float64 {
	if d.Live == 0 {
		return 0
	}
	return float64(d.ActiveNow) / float64(d.Live)
}

// StateCount is how many tenants are in one state.
type StateCount struct {
	State string
	N     int
}

// CapacityView is the engine's host and what running tenants hold of it.
type CapacityView struct {
	// Known is false when the engine did not answer.
	Known             bool
	HostMemBytes      int64
	HostCPUs          int
	ReservedMemBytes  int64
	ReservedCPUs      float64
	RunningTenants    int
	RunningContainers int
	// PerTenantBytes is what one more tenant is expected to reserve.
	PerTenantBytes int64
	// MoreTenants is how many more such tenants fit in memory.
	MoreTenants int
}

// MemShare is the share of the host's memory reserved by tenants.
func (c CapacityView) MemShare() float64 {
	if c.HostMemBytes == 0 {
		return 0
	}
	return float64(c.ReservedMemBytes) / float64(c.HostMemBytes)
}

// TenantTable is the searchable, filterable, sortable page of tenants.
type TenantTable struct {
	Filter TenantFilter
	Rows   []TenantTableRow
	Total  int
	// Environments and Platforms fill the filter menus.
	Environments, Platforms []string
	States                  []string
	Now                     time.Time
	CSRF                    string
}

// TenantFilter is the table's query as the form holds it.
type TenantFilter struct {
	Search, State, Environment, Platform, Owner string
	Sort                                        string
	Asc                                         bool
	Page, PerPage                               int
}

// Values encodes the filter as a query string, with page set to page.
func (f TenantFilter) Values(page int) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", f.Search)
	set("state", f.State)
	set("env", f.Environment)
	set("platform", f.Platform)
	set("owner", f.Owner)
	set("sort", f.Sort)
	if f.Asc {
		v.Set("dir", "asc")
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

// PageURL is the dashboard's address for a page of the table.
func (t TenantTable) PageURL(page int) string {
	q := t.Filter.Values(page).Encode()
	if q == "" {
		return "/admin"
	}
	return "/admin?" + q
}

// Pages is how many pages the matching rows fill.
func (t TenantTable) Pages() int {
	if t.Filter.PerPage <= 0 {
		return 1
	}
	return max((t.Total+t.Filter.PerPage-1)/t.Filter.PerPage, 1)
}

// First and Last number the rows shown (1-based).
func (t TenantTable) First() int {
	if len(t.Rows) == 0 {
		return 0
	}
	return (t.Filter.Page-1)*t.Filter.PerPage + 1
}

// Last is the number of the last row shown.
func (t TenantTable) Last() int {
	if len(t.Rows) == 0 {
		return 0
	}
	return t.First() + len(t.Rows) - 1
}

// TenantTableRow is one tenant of the table.
type TenantTableRow struct {
	ID, Slug, AppName, OwnerEmail  string
	Platform, Version, Environment string
	State, Desired                 string
	Created, LastActive, Expires   time.Time
	URL                            string
}

// SortOptions are the table's sort keys with their labels.
func SortOptions() [][2]string {
	return [][2]string{{"created", "Created"}, {"slug", "Slug"}, {"state", "State"}, {"active", "Last activity"}}
}
