package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// BudgetFigures are the memory budget's figures at a scrape.
type BudgetFigures struct {
	Bytes, Used      int64
	Members, Waiting int
	Admitted, Queued int64
	Evicted, Refused int64
}

// budgetCollector reads the memory budget at scrape time.
type budgetCollector struct {
	read                               func() BudgetFigures
	bytes, used, members, waiting      *prometheus.Desc
	admitted, queued, evicted, refused *prometheus.Desc
}

// RegisterBudget registers the memory budget's gauges and counters
// (appfactory_memory_budget_*), read at every scrape.
func RegisterBudget(reg prometheus.Registerer, read func() BudgetFigures) error {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("appfactory_memory_budget_"+name, help, nil, nil)
	}
	return reg.Register(&budgetCollector{read: read,
		bytes:    d("bytes", "The memory budget: the most the memory limits of running, paused and starting tenants may add up to."),
		used:     d("used_bytes", "The memory limits of the tenants in the budget now."),
		members:  d("tenants", "Tenants in the budget: running, paused or starting."),
		waiting:  d("queue_length", "Tenants waiting for memory to start."),
		admitted: d("admitted_total", "Starts let in by the budget."),
		queued:   d("queued_total", "Starts that had to wait for memory."),
		evicted:  d("evictions_total", "Idle tenants put to sleep to make room."),
		refused:  d("refused_total", "Starts refused because the tenant's limit exceeds the whole budget."),
	})
}

// Describe implements prometheus.Collector.
func (c *budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.bytes, c.used, c.members, c.waiting, c.admitted, c.queued, c.evicted, c.refused} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.read()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	g(c.bytes, float64(f.Bytes))
	g(c.used, float64(f.Used))
	g(c.members, float64(f.Members))
	g(c.waiting, float64(f.Waiting))
	n(c.admitted, f.Admitted)
	n(c.queued, f.Queued)
	n(c.evicted, f.Evicted)
	n(c.refused, f.Refused)
}
