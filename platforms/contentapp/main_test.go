package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRunVersionAndUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"version"}, 0, "contentapp dev\n", ""},
		{nil, 2, "", "usage:"},
		{[]string{"fly"}, 2, "", "usage:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, func(string) string { return "" }, &out, &errb)
			if code != tt.code || out.String() != tt.out || !strings.Contains(errb.String(), tt.err) {
				t.Fatalf("run = %d, %q, %q", code, out.String(), errb.String())
			}
		})
	}
}

func TestHealthCommand(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ok.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	t.Cleanup(bad.Close)
	gone := httptest.NewServer(nil)
	gone.Close()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"2xx", []string{"health", ok.URL}, nil, 0},
		{"5xx", []string{"health", bad.URL}, nil, 1},
		{"refused", []string{"health", gone.URL}, nil, 1},
		{"own listener", []string{"health"}, map[string]string{"CONTENTAPP_LISTEN": strings.TrimPrefix(ok.URL, "http://")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, func(k string) string { return tt.env[k] }, &out, &errb); code != tt.want {
				t.Fatalf("health = %d (%s), want %d", code, errb.String(), tt.want)
			}
		})
	}
}

func TestLocalURL(t *testing.T) {
	tests := map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:8081":   "http://127.0.0.1:8081/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"127.0.0.1:9000": "http://127.0.0.1:9000/healthz",
		"[::1]:9000":     "http://[::1]:9000/healthz",
	}
	for in, want := range tests {
		if got := localURL(in); got != want {
			t.Errorf("localURL(%q) = %q, want %q", in, got, want)
		}
	}
}
