package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape serves the registry over HTTP the way /metrics does and parses
// the text it answers.
func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, body)
	}
	return fams, string(body)
}

func TestMetricsParseAndCount(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	counts := map[string]int{"running": 3, "passivated": 7, "weird": 1}
	if err := RegisterTenantStates(reg, func(context.Context) (map[string]int, error) { return counts, nil }, nil); err != nil {
		t.Fatal(err)
	}
	m.ObserveActivation(300 * time.Millisecond)
	m.ObserveActivation(2 * time.Second)
	m.BuildDone("success")
	m.BuildDone("FAILED")
	m.BuildDone("acme-tenant-slug") // never a label value
	m.ProxyRequest(200)
	m.ProxyRequest(200)
	m.ProxyRequest(502)
	m.ProxyRequest(1000)
	m.ObserveReconcile(40 * time.Millisecond)
	m.ContainerEvent("die")
	var nilMetrics *Metrics
	nilMetrics.ObserveActivation(time.Second) // nil-safe
	nilMetrics.ProxyRequest(200)

	fams, body := scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		f, ok := fams[name]
		if !ok {
			t.Fatalf("no family %s", name)
		}
	next:
		for _, mm := range f.Metric {
			for _, lp := range mm.Label {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			switch {
			case mm.Counter != nil:
				return mm.Counter.GetValue()
			case mm.Gauge != nil:
				return mm.Gauge.GetValue()
			case mm.Histogram != nil:
				return float64(mm.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"appfactory_tenants", map[string]string{"state": "running"}, 3},
		{"appfactory_tenants", map[string]string{"state": "passivated"}, 7},
		{"appfactory_tenants", map[string]string{"state": "failed"}, 0},
		{"appfactory_tenants", map[string]string{"state": "weird"}, 1},
		{"appfactory_activations_total", nil, 2},
		{"appfactory_activation_seconds", nil, 2},
		{"appfactory_builds_total", map[string]string{"result": "success"}, 1},
		{"appfactory_builds_total", map[string]string{"result": "failure"}, 1},
		{"appfactory_builds_total", map[string]string{"result": "other"}, 1},
		{"appfactory_proxy_requests_total", map[string]string{"code": "200"}, 2},
		{"appfactory_proxy_requests_total", map[string]string{"code": "502"}, 1},
		{"appfactory_proxy_requests_total", map[string]string{"code": "other"}, 1},
		{"appfactory_reconcile_seconds", nil, 1},
		{"appfactory_container_events_total", map[string]string{"action": "die"}, 1},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s: runtime and process collectors missing", name)
		}
	}
	if strings.Contains(body, "acme-tenant-slug") {
		t.Error("a slug became a label value")
	}
}

// TestMetricsFamiliesBeforeTraffic: a scrape of a server that has served
// nothing yet already holds every family operators look for.
func TestMetricsFamiliesBeforeTraffic(t *testing.T) {
	reg := NewRegistry()
	NewMetrics(reg)
	if err := RegisterTenantStates(reg, func(context.Context) (map[string]int, error) { return map[string]int{}, nil }, nil); err != nil {
		t.Fatal(err)
	}
	fams, _ := scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	for _, name := range []string{"appfactory_tenants", "appfactory_activations_total", "appfactory_activation_seconds",
		"appfactory_builds_total", "appfactory_proxy_requests_total", "appfactory_reconcile_seconds", "go_goroutines"} {
		t.Run(name, func(t *testing.T) {
			if f, ok := fams[name]; !ok || len(f.Metric) == 0 {
				t.Errorf("no %s before any traffic", name)
			}
		})
	}
}

func TestTenantCollectorError(t *testing.T) {
	reg := NewRegistry()
	if err := RegisterTenantStates(reg, func(context.Context) (map[string]int, error) { return nil, errors.New("db down") }, nil); err != nil {
		t.Fatal(err)
	}
	// The scrape still answers (the other collectors), and says what failed.
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Errorf("gather error = %v", err)
	}
}

func TestCountResponsesAndActivations(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	h := m.CountResponses(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/stream":
			w.Write([]byte("a"))
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the wrapper: %v", err)
			}
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/", "/missing", "/stream", "/missing"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		// Read to the end: a streamed body ends only once the handler (and
		// the count after it) has returned.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	rec := m.ObservingActivations(nil)
	if err := rec.RecordActivation(context.Background(), "t", time.Now(), 700*time.Millisecond, "a test"); err != nil {
		t.Fatal(err)
	}
	_, body := scrape(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	for _, want := range []string{`appfactory_proxy_requests_total{code="200"} 2`, `appfactory_proxy_requests_total{code="404"} 2`,
		"appfactory_activations_total 1", `appfactory_activation_seconds_bucket{le="1"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
	var none *Metrics
	fs := http.FileServer(http.Dir("."))
	if none.CountResponses(fs) != fs {
		t.Error("nil metrics wrap the handler")
	}
}
