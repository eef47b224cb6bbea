package docker

import (
	"context"
	"testing"
	"time"
)

func TestNewDockerAndHost(t *testing.T) {
	e := newTestEnv(t)
	if err := e.d.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := e.d.Host(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.MemBytes <= 0 || h.CPUs < 1 || h.ServerVersion == "" || h.APIVersion != e.d.APIVersion() || h.APIVersion < MinAPIVersion {
		t.Errorf("host = %+v", h)
	}

	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-engine.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d, err := New(ctx); err == nil {
		d.Close()
		t.Fatal("New succeeded without an engine")
	}
}
