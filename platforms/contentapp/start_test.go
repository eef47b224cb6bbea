package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startBudget is the start-to-ready time the platform promises.
const startBudget = 300 * time.Millisecond

// buildBinary compiles contentapp the way the image does (static, stamped).
func buildBinary(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "contentapp")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRole starts a role of bin and returns the process and the time from
// exec to the first 200 of /healthz, polled with short dials.
func startRole(t *testing.T, bin, role string, env ...string) (*exec.Cmd, string, time.Duration) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, role)
	cmd.Env = append([]string{"CONTENTAPP_LISTEN=" + addr}, env...)
	hc := &http.Client{Timeout: 50 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for time.Since(start) < 5*time.Second {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, addr, time.Since(start)
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s did not answer /healthz within 5 s", role)
	return nil, "", 0
}

// stopRole sends SIGTERM and checks for a clean exit within a second.
func stopRole(t *testing.T, cmd *exec.Cmd) time.Duration {
	t.Helper()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("no exit within 1 s of SIGTERM")
	}
	return time.Since(start)
}

// TestStartToReady measures exec-to-/healthz-200 of both roles (store with
// a fresh database each time, so schema creation is included) and checks
// that SIGTERM stops them cleanly.
func TestStartToReady(t *testing.T) {
	bin := buildBinary(t, "1.0")
	cfgDir := t.TempDir()
	const runs = 7
	for _, role := range []string{"store", "web"} {
		t.Run(role, func(t *testing.T) {
			var took, stops []time.Duration
			for range runs {
				cmd, _, d := startRole(t, bin, role, "CONTENTAPP_CONFIG_DIR="+cfgDir, "CONTENTAPP_DATA="+t.TempDir(),
					"CONTENTAPP_STORE_URL=http://127.0.0.1:1")
				took = append(took, d)
				stops = append(stops, stopRole(t, cmd))
			}
			slices.Sort(took)
			slices.Sort(stops)
			t.Logf("%s start-to-ready over %d runs: min %v, median %v, max %v; SIGTERM-to-exit median %v",
				role, runs, took[0].Round(time.Microsecond), took[runs/2].Round(time.Microsecond), took[runs-1].Round(time.Microsecond),
				stops[runs/2].Round(time.Microsecond))
			if took[runs/2] > startBudget {
				t.Fatalf("median start-to-ready %v exceeds %v", took[runs/2], startBudget)
			}
		})
	}
}

// TestStoreKeepsDataAcrossRestart runs the real binary: a document written
// before SIGTERM is there after the next start.
func TestStoreKeepsDataAcrossRestart(t *testing.T) {
	bin := buildBinary(t, "1.0")
	data, cfgDir := t.TempDir(), t.TempDir()
	env := []string{"CONTENTAPP_DATA=" + data, "CONTENTAPP_CONFIG_DIR=" + cfgDir}
	cmd, addr, _ := startRole(t, bin, "store", env...)
	resp, err := http.Post("http://"+addr+"/documents", "application/json",
		strings.NewReader(`{"doctype":"Note","title":"Survivor","fields":{}}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", resp, err)
	}
	loc := resp.Header.Get("Location")
	resp.Body.Close()
	stopRole(t, cmd)
	// The WAL is checkpointed: empty, or gone. Only a missing file counts
	// as gone, not a failed stat.
	if fi, err := os.Stat(filepath.Join(data, "content.db-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("WAL not checkpointed on shutdown (%d bytes)", fi.Size())
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat WAL: %v", err)
	}
	cmd, addr, _ = startRole(t, bin, "store", env...)
	defer stopRole(t, cmd)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s%s", addr, loc), nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after restart: %v %v", resp, err)
	}
	resp.Body.Close()
}
