package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterBudget(t *testing.T) {
	reg := prometheus.NewRegistry()
	fig := BudgetFigures{Bytes: 1 << 30, Used: 512 << 20, Members: 1, Waiting: 2, Admitted: 5, Queued: 3, Evicted: 2, Refused: 1}
	if err := RegisterBudget(reg, func() BudgetFigures { return fig }); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		m := f.GetMetric()[0]
		if f.GetType().String() == "COUNTER" {
			got[f.GetName()] = m.GetCounter().GetValue()
		} else {
			got[f.GetName()] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"appfactory_memory_budget_bytes": 1 << 30, "appfactory_memory_budget_used_bytes": 512 << 20,
		"appfactory_memory_budget_tenants": 1, "appfactory_memory_budget_queue_length": 2,
		"appfactory_memory_budget_admitted_total": 5, "appfactory_memory_budget_queued_total": 3,
		"appfactory_memory_budget_evictions_total": 2, "appfactory_memory_budget_refused_total": 1,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}
