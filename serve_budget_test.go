package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"appfactory/orchestrator/runtime"
)

type fakeHost struct {
	mem int64
	err error
}

func (h fakeHost) Host(context.Context) (runtime.HostInfo, error) {
	return runtime.HostInfo{MemBytes: h.mem}, h.err
}

func TestMemoryBudgetFlag(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	host := fakeHost{mem: 24 << 30}
	for _, c := range []struct {
		spec string
		want int64
		bad  bool
	}{
		{"75%", 18 << 30, false},
		{"", 18 << 30, false},
		{"50%", 12 << 30, false},
		{"12GiB", 12 << 30, false},
		{"800MiB", 800 << 20, false},
		{"1.5g", 3 << 29, false},
		{"off", 0, false},
		{"0", 0, false},
		{"0%", 0, true},
		{"150%", 0, true},
		{"lots", 0, true},
		{"-1GiB", 0, true},
		{"12 parsecs", 0, true},
	} {
		t.Run(c.spec, func(t *testing.T) {
			cfg := budgetConfig{Spec: c.spec}
			err := cfg.resolve(context.Background(), host, logger)
			if c.bad != (err != nil) {
				t.Fatalf("resolve(%q) = %v", c.spec, err)
			}
			if !c.bad && cfg.bytes != c.want {
				t.Fatalf("resolve(%q) = %d bytes, want %d", c.spec, cfg.bytes, c.want)
			}
		})
	}
	cfg := budgetConfig{Spec: "60%"}
	if err := cfg.resolve(context.Background(), fakeHost{err: errors.New("no engine")}, logger); err == nil {
		t.Fatal("a share without the host's memory resolved")
	}
}
