package docker

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"appfactory/orchestrator/runtime"
)

func TestReadBuildStream(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stream  string
		id      string
		lines   []string
		errMsg  string
		errLast string // last line kept in the BuildError
	}{
		{
			name:   "success with aux id",
			stream: `{"stream":"Step 1/2 : FROM scratch\n"}{"stream":"\n"}{"stream":" ---\u003e Running\n"}{"aux":{"ID":"sha256:abc"}}{"stream":"Successfully built abc\n"}`,
			id:     "sha256:abc",
			lines:  []string{"Step 1/2 : FROM scratch", " ---> Running", "Successfully built abc"},
		},
		{
			name:   "lines split across messages",
			stream: `{"stream":"par"}{"stream":"tial\nnext"}{"status":"Pulling"}{"stream":"tail"}`,
			lines:  []string{"partial", "next", "Pulling", "tail"},
		},
		{
			name:    "error with detail",
			stream:  `{"stream":"Step 2/2 : COPY x /\n"}{"stream":"partial"}{"errorDetail":{"message":"COPY failed: x not found"},"error":"COPY failed"}`,
			lines:   []string{"Step 2/2 : COPY x /", "partial"},
			errMsg:  "COPY failed: x not found",
			errLast: "partial",
		},
		{
			name:   "error without detail",
			stream: `{"error":"boom\n"}`,
			errMsg: "boom",
		},
		{name: "empty", stream: ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lines []string
			id, _, err := readBuildStream(strings.NewReader(tc.stream), func(l string) { lines = append(lines, l) })
			if id != tc.id || !reflect.DeepEqual(lines, tc.lines) {
				t.Errorf("id %q lines %q, want %q %q", id, lines, tc.id, tc.lines)
			}
			var be *runtime.BuildError
			switch {
			case tc.errMsg == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.errMsg != "" && !errors.As(err, &be):
				t.Errorf("err = %v, want *BuildError", err)
			case tc.errMsg != "" && (be.Msg != tc.errMsg || tc.errLast != "" && be.Lines[len(be.Lines)-1] != tc.errLast):
				t.Errorf("BuildError = %+v", be)
			}
		})
	}

	t.Run("keeps the last lines only", func(t *testing.T) {
		var b strings.Builder
		for i := range 50 {
			b.WriteString(`{"stream":"line ` + string(rune('A'+i%26)) + `\n"}`)
		}
		b.WriteString(`{"error":"failed"}`)
		_, _, err := readBuildStream(strings.NewReader(b.String()), nil)
		var be *runtime.BuildError
		if !errors.As(err, &be) || len(be.Lines) != buildErrorLines || be.Lines[buildErrorLines-1] != "line X" {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		if _, _, err := readBuildStream(strings.NewReader(`{"stream":`), nil); err == nil {
			t.Fatal("accepted a truncated stream")
		}
	})
}

func FuzzReadBuildStream(f *testing.F) {
	f.Add(`{"stream":"Step 1/1 : FROM scratch\n"}{"aux":{"ID":"sha256:abc"}}`)
	f.Add(`{"stream":"a"}{"errorDetail":{"message":"m"},"error":"e"}`)
	f.Add(`{"aux":"not an object"}{"status":"x"}`)
	f.Add(`{"stream":"\r\n\n"}`)
	f.Fuzz(func(t *testing.T, stream string) {
		n := 0
		_, _, err := readBuildStream(strings.NewReader(stream), func(l string) {
			n++
			if strings.Contains(l, "\n") || strings.TrimSpace(l) == "" {
				t.Fatalf("bad line %q", l)
			}
		})
		var be *runtime.BuildError
		if errors.As(err, &be) && len(be.Lines) > buildErrorLines {
			t.Fatalf("%d lines kept", len(be.Lines))
		}
	})
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		status string
		code   int
		health string
	}{
		{"Up 3 minutes", 0, ""},
		{"Up 2 seconds (health: starting)", 0, "starting"},
		{"Up 5 hours (healthy)", 0, "healthy"},
		{"Up 1 minute (unhealthy)", 0, "unhealthy"},
		{"Up 4 minutes (Paused)", 0, ""},
		{"Exited (137) 5 seconds ago", 137, ""},
		{"Exited (0) About a minute ago", 0, ""},
		{"Exited (x) now", 0, ""},
		{"Exited (", 0, ""},
		{"Created", 0, ""},
		{"", 0, ""},
	} {
		t.Run(tc.status, func(t *testing.T) {
			code, health := parseStatus(tc.status)
			if code != tc.code || health != tc.health {
				t.Errorf("= %d %q, want %d %q", code, health, tc.code, tc.health)
			}
		})
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"Up 3 minutes (healthy)", "Exited (1) 2 seconds ago", "Exited (99999999999999999999)", "Restarting (1) 3 seconds ago"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, health := parseStatus(s)
		switch health {
		case "", "starting", "healthy", "unhealthy":
		default:
			t.Fatalf("health %q", health)
		}
	})
}

func TestStatsFrom(t *testing.T) {
	var s container.StatsResponse
	s.CPUStats.CPUUsage.TotalUsage = 1_500_000_000
	s.PreCPUStats.CPUUsage.TotalUsage = 1_000_000_000
	s.CPUStats.SystemUsage = 12_000_000_000
	s.PreCPUStats.SystemUsage = 10_000_000_000
	s.CPUStats.OnlineCPUs = 2
	s.MemoryStats = container.MemoryStats{Usage: 100 << 20, Limit: 256 << 20, Stats: map[string]uint64{"total_inactive_file": 30 << 20}}
	got := statsFrom(s)
	if math.Abs(got.CPUPercent-50) > 1e-9 || got.MemBytes != 70<<20 || got.MemLimit != 256<<20 {
		t.Errorf("statsFrom = %+v, want 50%% and 70 MiB", got)
	}

	s.PreCPUStats = container.CPUStats{} // a first sample has no previous one
	s.MemoryStats.Stats = map[string]uint64{"inactive_file": 10 << 20}
	got = statsFrom(s)
	if got.CPUPercent != 0 || got.MemBytes != 90<<20 {
		t.Errorf("statsFrom without a previous sample = %+v", got)
	}
}

func TestStepImage(t *testing.T) {
	for _, tc := range []struct {
		line string
		id   string
	}{
		{" ---> 3f1c2a9b8e7d", "3f1c2a9b8e7d"},
		{" ---> Running in 3f1c2a9b8e7d", ""},
		{" ---> Using cache", ""},
		{" ---> ", ""},
		{" ---> 3F1C2A9B8E7D", ""},
		{" ---> 3f1c2a9b8e7", ""},
		{"Step 1/2 : FROM scratch", ""},
	} {
		t.Run(tc.line, func(t *testing.T) {
			id, ok := stepImage(tc.line)
			if id != tc.id || ok != (tc.id != "") {
				t.Errorf("= %q %v, want %q", id, ok, tc.id)
			}
		})
	}
}

// TestVanishedDuringBuild: only the engine's word for an image removed
// under the build cache's lookup makes a build run again.
func TestVanishedDuringBuild(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&runtime.BuildError{Msg: `unable to find image "sha256:76a8d9bd791d5a4a6497d27a4bfdd318efbba13fd066ec62c7d8949755be7449"`}, true},
		{fmt.Errorf("build image [x]: %w", &runtime.BuildError{Msg: `unable to find image "sha256:1"`}), true},
		{&runtime.BuildError{Msg: "COPY failed: file not found in build context"}, false},
		{errors.New(`unable to find image "x"`), false}, // not the builder's answer
		{nil, false},
	} {
		if got := vanishedDuringBuild(c.err); got != c.want {
			t.Errorf("vanishedDuringBuild(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
