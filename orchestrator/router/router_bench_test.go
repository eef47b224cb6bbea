package router

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/web"
	"appfactory/web/lean"
)

// BenchmarkRouterProxy measures one proxied request on a running tenant
// (loopback backend, keep-alive on both sides), beside the same request
// sent straight to the backend.
func BenchmarkRouterProxy(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer backend.Close()
	routes := route.NewRoutes()
	routes.Set(route.Route{TenantID: "t1", Slug: "acme", State: domain.StateRunning, Backends: []string{backend.Listener.Addr().String()}})
	rt := NewRouter(RouterConfig{Slug: func(h string) (string, bool) { return web.TenantSlug(h, "localhost") }},
		routes, &fakeActivator{routes: routes}, route.NewActivity(nil, nil))
	runRouter(b, rt)
	front := httptest.NewServer(rt)
	defer front.Close()
	leanFront := serveLean(b, rt)
	for _, tc := range []struct{ name, url, host string }{
		{"direct", backend.URL, ""},
		{"router", front.URL, "acme.localhost"},
		{"router-lean", leanFront, "acme.localhost"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			b.ReportAllocs()
			b.SetParallelism(8)
			// CPU time of the whole process (client, router and backend)
			// per request: steadier than wall time on a shared machine.
			cpu0 := cpuTime()
			defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, tc.url+"/", nil)
					req.Host = tc.host
					resp, err := c.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}

// serveLean serves rt through the lean loop with its raw path, as serve
// does, until the benchmark ends, and returns its URL.
func serveLean(b *testing.B, rt *Router) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ls := &lean.Server{Handler: rt, Take: lean.Plain, Fast: rt.ServeHead, Fallback: &http.Server{Handler: rt}}
	go ls.Serve(ln)
	b.Cleanup(func() { _ = ls.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
