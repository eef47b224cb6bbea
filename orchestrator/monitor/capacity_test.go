package monitor

import (
	"testing"

	"appfactory/orchestrator/runtime"
)

func TestComputeCapacity(t *testing.T) {
	limits := func(env string) (int64, float64, bool) {
		switch env {
		case "trial":
			return 256 << 20, 0.5, true
		case "demo":
			return 512 << 20, 1, true
		}
		return 0, 0, false
	}
	ct := func(tenant string, running, paused bool) runtime.Observation {
		return runtime.Observation{Tenant: tenant, Replicas: []runtime.Replica{{Running: running, Paused: paused}}}
	}
	host := runtime.HostInfo{MemBytes: 4 << 30, CPUs: 2}
	cases := []struct {
		name       string
		containers []runtime.Observation
		want       Capacity
	}{
		{"nothing runs", nil, Capacity{HostMemBytes: 4 << 30, HostCPUs: 2, PerTenantBytes: 512 << 20, MoreTenants: 8}},
		{"a trial of two and a paused demo of one", []runtime.Observation{ct("a", true, false), ct("a", true, false), ct("b", false, true), ct("c", false, false), ct("", true, false)},
			Capacity{HostMemBytes: 4 << 30, HostCPUs: 2, ReservedMemBytes: 1 << 30, ReservedCPUs: 2, RunningTenants: 2, RunningContainers: 3, PerTenantBytes: 512 << 20, MoreTenants: 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ComputeCapacity(host, c.containers, map[string]string{"a": "trial", "b": "demo", "c": "demo"}, limits, 256<<20)
			if got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}
