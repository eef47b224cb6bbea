package factory

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

func TestBuildContextDeterministic(t *testing.T) {
	files := map[string][]byte{"Dockerfile": []byte("FROM scratch\n"), "b/x.txt": []byte("x"), "a/y/z.bin": {0, 1, 2}, "run": []byte("#!")}
	modes := map[string]int64{"run": 0o755, "b/x.txt": 0o6644}
	first, err := TarContext(files, modes)
	if err != nil {
		t.Fatal(err)
	}
	firstBytes, _ := io.ReadAll(first)
	for range 5 {
		again, err := TarContext(files, modes)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(again)
		if !bytes.Equal(b, firstBytes) {
			t.Fatal("the same content gave different tar bytes")
		}
	}

	var got []string
	tr := tar.NewReader(bytes.NewReader(firstBytes))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		got = append(got, h.Name)
		if !h.ModTime.Equal(buildContextTime) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %v uid %d gid %d", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		switch h.Name {
		case "run":
			if h.Mode != 0o755 {
				t.Errorf("run mode %o", h.Mode)
			}
		case "b/x.txt":
			if h.Mode != 0o644 || string(data) != "x" {
				t.Errorf("b/x.txt mode %o data %q, want 644 (setuid and setgid dropped)", h.Mode, data)
			}
		}
	}
	want := []string{"Dockerfile", "a/", "a/y/", "a/y/z.bin", "b/", "b/x.txt", "run"}
	if len(got) != len(want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entries %q, want %q", got, want)
		}
	}
}

func TestBuildContextRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		mode int64
	}{
		{"empty", "", 0},
		{"absolute", "/etc/passwd", 0},
		{"parent", "../x", 0},
		{"parent inside", "a/../../x", 0},
		{"dot", ".", 0},
		{"file type bits", "x", 0o100755},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := NewBuildContext().Add(tc.path, tc.mode, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	b := NewBuildContext()
	if err := b.Add("./a//b", 0, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Add("a/b", 0, []byte("2")); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	var n int
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		if h.Typeflag == tar.TypeReg {
			n++
			if body, _ := io.ReadAll(tr); h.Name != "a/b" || string(body) != "2" {
				t.Errorf("%s = %q, want a/b = 2", h.Name, body)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d files, want the later Add to replace the earlier", n)
	}
}

func TestTarContextRejectsAmbiguity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string][]byte
	}{
		{"two names of one path", map[string][]byte{"a": nil, "./a": nil}},
		{"file and directory", map[string][]byte{"a": nil, "a/b": nil}},
		{"escapes", map[string][]byte{"x/../../y": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := TarContext(tc.files, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
