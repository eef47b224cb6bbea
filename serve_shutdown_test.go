package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer safe for the server's goroutines and the
// test reading it at the same time.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeShutsDownCleanly runs `appfactory serve` against the real engine,
// cancels it as SIGINT/SIGTERM would, and checks that it returns without
// error, that its background loops stopped (run returned at all) and that
// the database was closed cleanly: the WAL is checkpointed and removed.
func TestServeShutsDownCleanly(t *testing.T) {
	dir := t.TempDir()
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--shutdown-grace", "5s"}, os.Stdout, &stderr)
	}()

	upAt := regexp.MustCompile(`appfactory is up at (http://\S+)`)
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == ""; {
		select {
		case err := <-done:
			t.Fatalf("serve ended before it was up: %v\n%s", err, stderr.String())
		default:
		}
		if m := upAt.FindStringSubmatch(stderr.String()); m != nil {
			url = strings.Replace(m[1], "localhost", "127.0.0.1", 1)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never came up:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "appfactory.db-wal")); err != nil {
		t.Logf("no WAL while serving (%v); the check after shutdown proves less", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after shutdown: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30s of its cancellation:\n%s", stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{"appfactory stopped", "database closed"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "close database") {
		t.Errorf("closing the database failed:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "appfactory.db-wal")); !os.IsNotExist(err) {
		t.Errorf("the WAL is still there after shutdown (%v): the database was not closed cleanly", err)
	}
	if _, err := http.Get(url + "healthz"); err == nil {
		t.Error("the portal still answers after shutdown")
	}
}
