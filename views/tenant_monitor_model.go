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

// TenantTimeline is a tenant's event log, newest first.
type TenantTimeline struct {
	TenantID string
	Events   []TimelineEvent
	// Poll keeps the list refreshing while the tenant is changing.
	Poll bool
}

// TimelineEvent is one line of the timeline.
type TimelineEvent struct {
	At            time.Time
	Kind, Message string
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
