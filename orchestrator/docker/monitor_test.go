package docker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"appfactory/orchestrator/runtime"
)

func TestEventsStartDie(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	spec := serverSpec(e.name("web-1"), image, netName, "")
	id := e.container(t, spec)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, errs := e.d.Events(ctx, map[string]string{testLabel: e.id})
	// The subscription has reached the engine once it delivers an event:
	// a marker container's, made again until one is seen.
	e.waitSubscribed(t, image, events, errs)
	started := time.Now()
	e.startReady(t, id, netName)
	if err := e.d.Stop(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	seen := map[string]EngineEvent{}
	for seen["start"].ID == "" || seen["die"].ID == "" {
		select {
		case ev := <-events:
			if ev.Type != "container" || ev.ID != id {
				t.Errorf("event of another object: %+v", ev)
				continue
			}
			seen[ev.Action] = ev
		case err := <-errs:
			t.Fatalf("events ended: %v (seen %v)", err, seen)
		}
	}
	start, die := seen["start"], seen["die"]
	if start.Name != spec.Name || start.Labels[testLabel] != e.id || start.Labels["appfactory.test"] != "1" {
		t.Errorf("start event = %+v", start)
	}
	if _, ok := start.Labels["name"]; ok {
		t.Errorf("labels hold the name attribute: %v", start.Labels)
	}
	if start.Time.Before(started.Add(-time.Second)) || time.Since(start.Time) > time.Minute {
		t.Errorf("start event time %v, test started %v", start.Time, started)
	}
	if die.ExitCode != "0" {
		t.Errorf("die exit code %q, want 0 after SIGTERM", die.ExitCode)
	}

	cancel()
	select {
	case err := <-errs:
		if err == nil {
			t.Error("nil error after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Error("no error after cancel")
	}
}

func TestStatsMemory(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	id := e.container(t, serverSpec(e.name("web-1"), image, netName, ""))
	base := e.startReady(t, id, netName)
	for range 2 {
		if status, body := httpPost(t, base+"/ballast", ""); status != 200 {
			t.Fatalf("ballast: %d %s", status, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	s, err := e.d.Stats(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	t.Logf("stats in %v: %+v", took, s)
	if s.MemLimit != 64<<20 {
		t.Errorf("MemLimit = %d, want %d", s.MemLimit, 64<<20)
	}
	if s.MemBytes < 16<<20 || s.MemBytes >= s.MemLimit {
		t.Errorf("MemBytes = %d, want 16 MiB of ballast and below the limit", s.MemBytes)
	}
	if s.CPUPercent < 0 || s.CPUPercent > 100*2 {
		t.Errorf("CPUPercent = %v", s.CPUPercent)
	}
	if s.Pids < 1 || s.At.IsZero() || time.Since(s.At) > time.Minute {
		t.Errorf("pids %d at %v", s.Pids, s.At)
	}
	if _, err := e.d.Stats(ctx, e.name("missing")); err == nil {
		t.Error("stats of a missing container succeeded")
	}

	begin = time.Now()
	first, err := e.d.StatsOneShot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one-shot stats in %v", time.Since(begin))
	if first.CPUPercent != 0 || first.MemLimit != 64<<20 || first.MemBytes < 16<<20 || first.CPUTotalNs == 0 || first.SystemNs == 0 || first.OnlineCPUs < 1 {
		t.Errorf("one-shot = %+v", first)
	}
	for range 3 {
		httpPost(t, base+"/ballast", "") // some CPU between the samples
	}
	time.Sleep(1100 * time.Millisecond) // the engine samples once a second
	second, err := e.d.StatsOneShot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if pct := runtime.CPUPercentBetween(first, second); pct <= 0 || pct > 200 {
		t.Errorf("CPU between samples = %v%% (%+v -> %+v)", pct, first, second)
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	image := e.image(t)
	netName, _, _ := e.network(t, "net", true)
	id := e.container(t, serverSpec(e.name("web-1"), image, netName, e.volume(t, "data")))
	base := e.startReady(t, id, netName)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Logs can trail the server's first answer by a moment.
	var all string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		all = readLogs(t, e, ctx, id, runtime.LogOptions{})
		if strings.Contains(all, "msg=listening") {
			break
		}
	}
	if !strings.Contains(all, "msg=listening") || strings.ContainsAny(all, "\x00\x01\x02") {
		t.Fatalf("logs = %q, want the listening line without stream headers", all)
	}
	if got := readLogs(t, e, ctx, id, runtime.LogOptions{Tail: 1, Timestamps: true}); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, time.Now().UTC().Format("2006-")) {
		t.Errorf("tail 1 with timestamps = %q", got)
	}

	rc, err := e.d.Logs(ctx, id, runtime.LogOptions{Tail: 1, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lines := bufio.NewScanner(rc)
	if status, body := httpPost(t, base+"/data", "12345"); status != 204 {
		t.Fatalf("POST /data: %d %s", status, body)
	}
	found := false
	for !found && lines.Scan() {
		found = strings.Contains(lines.Text(), "msg=stored bytes=5")
	}
	if !found {
		t.Fatalf("follow never showed the stored line: %v", lines.Err())
	}
	if err := rc.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func readLogs(t *testing.T, e *testEnv, ctx context.Context, id string, opts runtime.LogOptions) string {
	t.Helper()
	rc, err := e.d.Logs(ctx, id, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitSubscribed creates labelled marker containers (never started) until
// the stream delivers the creation of one: from then on, the engine sends
// the stream every event of the test's objects (in order, so nothing
// earlier is pending). Containers, because the engine's volume and network
// events carry no labels to filter on.
func (e *testEnv) waitSubscribed(t *testing.T, image string, events <-chan EngineEvent, errs <-chan error) {
	t.Helper()
	sawCreate := func(marker string) bool {
		wait := time.NewTimer(200 * time.Millisecond)
		defer wait.Stop()
		for {
			select {
			case ev := <-events:
				if ev.Type == "container" && ev.ID == marker && ev.Action == "create" {
					return true
				}
			case err := <-errs:
				t.Fatalf("events ended: %v", err)
			case <-wait.C:
				return false
			}
		}
	}
	for n, deadline := 1, time.Now().Add(20*time.Second); !sawCreate(e.container(t, ContainerSpec{Name: e.name(fmt.Sprintf("marker-%d", n)), Image: image})); n++ {
		if time.Now().After(deadline) {
			t.Fatal("the event stream delivered no marker in 20 s")
		}
	}
}
