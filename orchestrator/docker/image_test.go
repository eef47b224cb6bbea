package docker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"appfactory/orchestrator/runtime"
)

func TestBuildImageFromMemory(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	tag := "appfactory-test/build:" + e.id
	t.Cleanup(func() { _ = e.d.RemoveImage(context.Background(), tag) })
	files := map[string][]byte{
		"Dockerfile":    []byte("FROM scratch\nCOPY hello.txt /srv/hello.txt\nCOPY bin/tool /tool\n"),
		"hello.txt":     []byte("hello\n"),
		"bin/tool":      []byte("#!/bin/false\n"),
		"unused/ignore": []byte("not copied"),
	}
	build := func() (string, []string) {
		t.Helper()
		r, err := tarContext(files, map[string]int64{"bin/tool": 0o755})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		id, err := e.d.BuildImage(ctx, r, []string{tag}, e.labels, func(l string) { lines = append(lines, l) })
		if err != nil {
			t.Fatalf("build: %v\n%s", err, strings.Join(lines, "\n"))
		}
		return id, lines
	}
	id, lines := build()
	if !strings.HasPrefix(id, "sha256:") {
		t.Errorf("image id = %q", id)
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{"Step 1/", "COPY hello.txt /srv/hello.txt", "Successfully tagged " + tag} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got, ok, err := e.d.ImageID(ctx, tag); err != nil || !ok || got != id {
		t.Errorf("ImageID(%s) = %q, %v, %v; want %q", tag, got, ok, err, id)
	}
	// The same content builds the same image (from the cache).
	if again, _ := build(); again != id {
		t.Errorf("rebuild gave %s, want %s", again, id)
	}

	for range 2 {
		if err := e.d.RemoveImage(ctx, tag); err != nil {
			t.Fatalf("remove: %v", err)
		}
	}
	if got, ok, err := e.d.ImageID(ctx, tag); err != nil || ok {
		t.Errorf("ImageID after remove = %q, %v, %v", got, ok, err)
	}
}

func TestBuildImageError(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct {
		name       string
		dockerfile string
		msg        string // in BuildError.Msg
		line       string // in BuildError.Lines
	}{
		{"missing file", "FROM scratch\nLABEL " + testLabel + "=" + e.id + "\nCOPY present.txt /\nCOPY missing.txt /\n", "missing.txt", "COPY missing.txt /"},
		{"unknown instruction", "FROM scratch\nCOPPY present.txt /\n", "COPPY", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := "appfactory-test/broken:" + e.id
			t.Cleanup(func() { _ = e.d.RemoveImage(context.Background(), tag) })
			r, err := tarContext(map[string][]byte{"Dockerfile": []byte(tc.dockerfile), "present.txt": []byte("x")}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			_, err = e.d.BuildImage(context.Background(), r, []string{tag}, e.labels, func(l string) { out = append(out, l) })
			var be *runtime.BuildError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want *BuildError", err, err)
			}
			if !strings.Contains(be.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to mention %q", be.Msg, tc.msg)
			}
			if tc.line != "" && !strings.Contains(strings.Join(be.Lines, "\n"), tc.line) {
				t.Errorf("Lines = %q, want one with %q", be.Lines, tc.line)
			}
			if len(be.Lines) > buildErrorLines {
				t.Errorf("%d lines kept", len(be.Lines))
			}
			if _, ok, err := e.d.ImageID(context.Background(), tag); err != nil || ok {
				t.Errorf("a failed build left its tag (found %v, err %v)", ok, err)
			}
			steps := 0
			for _, l := range be.Lines {
				if step, ok := stepImage(l); ok {
					steps++
					if _, ok, err := e.d.ImageID(context.Background(), step); err != nil || ok {
						t.Errorf("a failed build left its step image %s (found %v, err %v)", step, ok, err)
					}
				}
			}
			if tc.line != "" && steps == 0 {
				t.Errorf("no step image in %q", be.Lines)
			}
		})
	}
}
