package views

import "time"

// TenantResources is a tenant's CPU and memory over the last day.
type TenantResources struct {
	TenantID string
	CPU, Mem LineChart
	// Latest is the last sample (zero when there is none).
	LatestAt         time.Time
	LatestCPUPercent float64
	LatestMemBytes   int64
	Now              time.Time
}

// TenantMonitoring is what monitoring adds to a deployment's page.
type TenantMonitoring struct {
	Resources TenantResources
	// Logs is nil for a deployment whose containers are gone.
	Logs *TenantLogTail
	// Trial says when the trial ends ("" without one); CanExtend shows
	// staff the extension.
	Trial     string
	CanExtend bool
}

// TenantLogTail is the live log viewer of a tenant's containers.
type TenantLogTail struct {
	TenantID string
	// Containers are the short names ("web-1"); Services the service names.
	Containers, Services []string
	Tail                 int
}

// StreamURL is the server-sent event stream of the tenant's logs.
func (v TenantLogTail) StreamURL() string { return "/tenants/" + v.TenantID + "/logs/stream" }
