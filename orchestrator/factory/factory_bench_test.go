package factory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"appfactory/orchestrator/factory"
	"appfactory/orchestrator/internal/enginetest"
)

// BenchmarkBuildNewAssembly builds a tenant image of a new assembly (a
// model never built before) on the cached platform image: plan, build
// through the engine, tag. Run with -benchtime 10x; reports the median.
func BenchmarkBuildNewAssembly(b *testing.B) {
	e := enginetest.New(b)
	ctx := context.Background()
	if _, ok, _ := e.D.ImageID(ctx, "appfactory/contentapp:1.0"); !ok {
		b.Fatal("appfactory/contentapp:1.0 is not on this host: make images")
	}
	f := factory.NewFactory(e.D)
	f.Labels = e.Labels
	var took []time.Duration
	for i := 0; i < b.N; i++ {
		in := factory.BuildInput{AppID: "bench", Platform: "contentapp", Version: "1.0", BaseImage: "appfactory/contentapp:1.0",
			Components: []factory.ComponentInput{{ID: "comments", Env: map[string]string{"CONTENTAPP_FEATURE_COMMENTS": "1"}}},
			Model:      json.RawMessage(fmt.Sprintf(`{"title":"Bench %s %d","doctypes":[{"name":"Contract","fields":[]}]}`, e.ID, i))}
		start := time.Now()
		p, err := f.Plan(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if reused, err := f.Build(ctx, p, nil); err != nil || reused {
			b.Fatalf("build: reused %v, %v", reused, err)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		if err := e.D.RemoveImage(ctx, p.Tag); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(medianOf(took).Microseconds())/1000, "p50-ms")
}

// medianOf is the median of durations.
func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
