package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// health GETs a URL within one second and returns 0 on a 2xx answer. It is
// the HEALTHCHECK of scratch images, which have no shell or curl. Without a
// URL it probes this container's own listener: $CONTENTAPP_LISTEN when set,
// else the web and the store default ports (only one of them listens in a
// given container).
func health(args []string, getenv func(string) string, stderr io.Writer) int {
	urls := args
	if len(urls) == 0 {
		if l := getenv("CONTENTAPP_LISTEN"); l != "" {
			urls = []string{localURL(l)}
		} else {
			urls = []string{"http://127.0.0.1:8080/healthz", "http://127.0.0.1:8081/healthz"}
		}
	}
	hc := &http.Client{Timeout: time.Second}
	var last error
	for _, u := range urls {
		resp, err := hc.Get(u)
		if err != nil {
			last = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return 0
		}
		last = fmt.Errorf("%s answered %s", u, resp.Status)
	}
	fmt.Fprintf(stderr, "unhealthy: %v\n", last)
	return 1
}

// localURL turns a listen address (":8080", "0.0.0.0:8080") into the
// loopback URL of its /healthz.
func localURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen + "/healthz"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
