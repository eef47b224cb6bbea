package catalog

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"appfactory/apperr"
)

const goodManifest = "name: acme-theme\nversion: 1.0.0\ndescription: Colours of Acme.\n"

// entry is one member of a test archive.
type entry struct {
	name string
	typ  byte // tar type flag; 0 = regular file
	body string
	mode int64
	link string
}

func file(name, body string) entry { return entry{name: name, body: body, mode: 0o644} }
func dir(name string) entry        { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }

// tgz builds a .tar.gz exactly as listed, whatever the entries hold.
func tgz(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: e.mode, Linkname: e.link, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipOf builds a .zip; a name ending in / is a directory, a typ of
// TypeSymlink or TypeFifo sets those modes.
func zipOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := os.FileMode(e.mode)
		switch e.typ {
		case tar.TypeSymlink:
			mode |= os.ModeSymlink
		case tar.TypeFifo:
			mode |= os.ModeNamedPipe
		case tar.TypeDir:
			mode |= os.ModeDir
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zeros(n int) string { return string(make([]byte, n)) }

func randomText(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestReadBundleAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, filename string
		data           []byte
	}{
		{"tar.gz as tar -C dir . makes it", "theme.tar.gz", tgz(t, dir("./"), file("./component.yaml", goodManifest), dir("./theme/"), file("./theme/site.css", "body{color:#123}"))},
		{"tgz without directories", "theme.tgz", tgz(t, file("component.yaml", goodManifest), file("theme/site.css", "body{color:#123}"))},
		{"git archive with a global header", "theme.tar.gz", tgz(t, entry{name: "pax_global_header", typ: tar.TypeXGlobalHeader}, file("component.yaml", goodManifest), file("theme/site.css", "body{color:#123}"))},
		{"zip", "theme.zip", zipOf(t, file("component.yaml", goodManifest), dir("theme/"), file("theme/site.css", "body{color:#123}"))},
		{"zip under a wrong name", "theme.tar.gz", zipOf(t, file("component.yaml", goodManifest), file("theme/site.css", "body{color:#123}"))},
		{"gzip under a wrong name", "theme.zip", tgz(t, file("component.yaml", goodManifest), file("theme/site.css", "body{color:#123}"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadBundle(tc.filename, tc.data, DefaultBundleLimits())
			if err != nil {
				t.Fatal(err)
			}
			if b.Manifest != (Manifest{Name: "acme-theme", Version: "1.0.0", Description: "Colours of Acme."}) {
				t.Errorf("manifest %+v", b.Manifest)
			}
			if len(b.Files) != 2 || b.Files[0].Path != "component.yaml" || b.Files[1].Path != "theme/site.css" || string(b.Files[1].Data) != "body{color:#123}" {
				t.Errorf("files %+v", b.Files)
			}
			sum := sha256.Sum256(tc.data)
			if b.SHA256 != hex.EncodeToString(sum[:]) || b.Size != int64(len(tc.data)) {
				t.Errorf("sha256 %s size %d", b.SHA256, b.Size)
			}
		})
	}
}

func TestReadBundleFromTarCommand(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar command")
	}
	src := filepath.Join(t.TempDir(), "good")
	if err := os.MkdirAll(filepath.Join(src, "theme"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "component.yaml"), []byte("name: acme-theme\nversion: 1.0.0\n"), 0o644)
	os.WriteFile(filepath.Join(src, "theme", "site.css"), []byte("body{color:#123}\n"), 0o644)
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o4755)
	out := filepath.Join(t.TempDir(), "good.tar.gz")
	if b, err := exec.Command("tar", "-czf", out, "-C", src, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBundle("good.tar.gz", data, DefaultBundleLimits())
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]int64{}
	for _, f := range b.Files {
		modes[f.Path] = f.Mode
	}
	if len(modes) != 3 || modes["run.sh"] != 0o755 || modes["theme/site.css"] != 0o644 {
		t.Fatalf("files and modes %v (setuid must be dropped)", modes)
	}
}

func TestReadBundleRefuses(t *testing.T) {
	manifest := file("component.yaml", goodManifest)
	small := BundleLimits{MaxArchive: 1 << 20, MaxUnpacked: 100 << 10, MaxEntries: 10, MaxRatio: 1000}
	many := []entry{manifest}
	for i := 0; i < 10; i++ {
		many = append(many, file("f"+strings.Repeat("x", i), "x"))
	}
	truncated := tgz(t, manifest, file("a.css", randomText(t, 4096)))
	truncated = truncated[:len(truncated)-12]
	corrupt := tgz(t, manifest, file("a.css", randomText(t, 4096)))
	corrupt[len(corrupt)/2] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
		lim  BundleLimits
		code string
		msg  string
	}{
		{"absolute path", tgz(t, manifest, file("/etc/evil", "x")), DefaultBundleLimits(), apperr.Unprocessable, "absolute path"},
		{"dot dot", tgz(t, manifest, file("../../etc/evil", "x")), DefaultBundleLimits(), apperr.Unprocessable, "leaves the archive"},
		{"dot dot inside", tgz(t, manifest, file("a/../../evil", "x")), DefaultBundleLimits(), apperr.Unprocessable, "leaves the archive"},
		{"dot dot in zip", zipOf(t, manifest, file("../evil", "x")), DefaultBundleLimits(), apperr.Unprocessable, "leaves the archive"},
		{"backslashes in zip", zipOf(t, manifest, file(`..\..\evil`, "x")), DefaultBundleLimits(), apperr.Unprocessable, "backslashes"},
		{"drive letter", zipOf(t, manifest, file("C:/evil", "x")), DefaultBundleLimits(), apperr.Unprocessable, "absolute path"},
		{"control characters", tgz(t, manifest, file("a\nb", "x")), DefaultBundleLimits(), apperr.Unprocessable, "cannot hold"},
		{"symlink", tgz(t, manifest, entry{name: "link", typ: tar.TypeSymlink, link: "/etc/passwd"}), DefaultBundleLimits(), apperr.Unprocessable, "is a link"},
		{"hardlink", tgz(t, manifest, entry{name: "link", typ: tar.TypeLink, link: "component.yaml"}), DefaultBundleLimits(), apperr.Unprocessable, "is a link"},
		{"zip symlink", zipOf(t, manifest, entry{name: "link", typ: tar.TypeSymlink, body: "/etc/passwd", mode: 0o777}), DefaultBundleLimits(), apperr.Unprocessable, "is a link"},
		{"char device", tgz(t, manifest, entry{name: "null", typ: tar.TypeChar}), DefaultBundleLimits(), apperr.Unprocessable, "device or a pipe"},
		{"block device", tgz(t, manifest, entry{name: "sda", typ: tar.TypeBlock}), DefaultBundleLimits(), apperr.Unprocessable, "device or a pipe"},
		{"fifo", tgz(t, manifest, entry{name: "pipe", typ: tar.TypeFifo}), DefaultBundleLimits(), apperr.Unprocessable, "device or a pipe"},
		{"zip fifo", zipOf(t, manifest, entry{name: "pipe", typ: tar.TypeFifo}), DefaultBundleLimits(), apperr.Unprocessable, "device or a pipe"},
		{"duplicate", tgz(t, manifest, file("a.css", "1"), file("a.css", "2")), DefaultBundleLimits(), apperr.Unprocessable, `"a.css" appears twice`},
		{"duplicate after cleaning", tgz(t, manifest, file("a.css", "1"), file("./a.css", "2")), DefaultBundleLimits(), apperr.Unprocessable, "appears twice"},
		{"duplicate manifest", tgz(t, manifest, file("./component.yaml", "name: evil\nversion: 1.0.0\n")), DefaultBundleLimits(), apperr.Unprocessable, "appears twice"},
		{"duplicate in zip", zipOf(t, manifest, file("x/a", "1"), file("x//a", "2")), DefaultBundleLimits(), apperr.Unprocessable, "appears twice"},
		{"file then directory", tgz(t, manifest, file("a", "1"), file("a/b", "2")), DefaultBundleLimits(), apperr.Unprocessable, "both a file and a directory"},
		{"directory then file", tgz(t, manifest, file("a/b", "1"), file("a", "2")), DefaultBundleLimits(), apperr.Unprocessable, "both a file and a directory"},
		{"bomb by ratio", tgz(t, manifest, file("zeros", zeros(8<<20))), DefaultBundleLimits(), apperr.TooLarge, "archive bomb"},
		{"bomb in zip", zipOf(t, manifest, file("zeros", zeros(8<<20))), DefaultBundleLimits(), apperr.TooLarge, "archive bomb"},
		{"unpacked over the limit", tgz(t, manifest, file("a", randomText(t, 60<<10)), file("b", randomText(t, 60<<10))), small, apperr.TooLarge, "more than the 100 KiB accepted"},
		{"unpacked over the default limit", tgz(t, manifest, file("zeros", zeros(51<<20))), BundleLimits{MaxArchive: 20 << 20, MaxUnpacked: 50 << 20, MaxEntries: 500, MaxRatio: 1 << 20}, apperr.TooLarge, "more than the 50 MiB accepted"},
		{"too many entries", tgz(t, many...), small, apperr.TooLarge, "more than 10 entries"},
		{"too many zip entries", zipOf(t, many...), small, apperr.TooLarge, "more than 10 entries"},
		{"archive too large", tgz(t, manifest, file("a", randomText(t, 4096))), BundleLimits{MaxArchive: 1000, MaxUnpacked: 1 << 20, MaxEntries: 10}, apperr.TooLarge, "at most 1000 bytes"},
		{"no manifest", tgz(t, file("theme/site.css", "x")), DefaultBundleLimits(), apperr.Unprocessable, "no component.yaml"},
		{"manifest not at the root", tgz(t, file("sub/component.yaml", goodManifest)), DefaultBundleLimits(), apperr.Unprocessable, "no component.yaml"},
		{"manifest is a directory", tgz(t, dir("component.yaml/"), file("component.yaml/x", "")), DefaultBundleLimits(), apperr.Unprocessable, "no component.yaml"},
		{"manifest not yaml", tgz(t, file("component.yaml", "name: [oops\n")), DefaultBundleLimits(), apperr.Unprocessable, "component.yaml line"},
		{"manifest without name", tgz(t, file("component.yaml", "version: 1.0.0\n")), DefaultBundleLimits(), apperr.Unprocessable, "name: is required"},
		{"manifest bad name", tgz(t, file("component.yaml", "name: Acme_Theme\nversion: 1.0.0\n")), DefaultBundleLimits(), apperr.Unprocessable, "lowercase"},
		{"manifest long name", tgz(t, file("component.yaml", "name: "+strings.Repeat("a", 41)+"\nversion: 1.0.0\n")), DefaultBundleLimits(), apperr.Unprocessable, "lowercase"},
		{"manifest bad version", tgz(t, file("component.yaml", "name: a\nversion: latest\n")), DefaultBundleLimits(), apperr.Unprocessable, "want a version like 1.0.0"},
		{"manifest without version", tgz(t, file("component.yaml", "name: a\n")), DefaultBundleLimits(), apperr.Unprocessable, "version: is required"},
		{"manifest long description", tgz(t, file("component.yaml", "name: a\nversion: 1.0.0\ndescription: "+strings.Repeat("d", 501)+"\n")), DefaultBundleLimits(), apperr.Unprocessable, "at most 500"},
		{"manifest unknown key", tgz(t, file("component.yaml", "name: a\nversion: 1.0.0\nrun: rm -rf /\n")), DefaultBundleLimits(), apperr.Unprocessable, "unknown key"},
		{"manifest a list", tgz(t, file("component.yaml", "- a\n")), DefaultBundleLimits(), apperr.Unprocessable, "want a mapping"},
		{"truncated", truncated, DefaultBundleLimits(), apperr.Unprocessable, "damaged"},
		{"corrupt", corrupt, DefaultBundleLimits(), apperr.Unprocessable, "damaged"},
		{"gzip magic only", []byte{0x1f, 0x8b}, DefaultBundleLimits(), apperr.Unprocessable, "damaged"},
		{"zip magic only", []byte("PK\x03\x04garbage"), DefaultBundleLimits(), apperr.Unprocessable, "damaged"},
		{"truncated zip", zipOf(t, manifest)[:40], DefaultBundleLimits(), apperr.Unprocessable, "damaged"},
		{"unknown format", []byte("name: acme\n"), DefaultBundleLimits(), apperr.Unprocessable, "is not a .tar.gz, .tgz or .zip"},
		{"plain tar", tarOnly(t), DefaultBundleLimits(), apperr.Unprocessable, "is not a .tar.gz"},
		{"empty", nil, DefaultBundleLimits(), apperr.Unprocessable, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadBundle("upload.tar.gz", tc.data, tc.lim)
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (bundle %v), want an *apperr.Error", err, b != nil)
			}
			if b != nil {
				t.Error("a bundle came back with the error")
			}
			if ae.Code != tc.code || !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("got %s %q, want %s containing %q", ae.Code, ae.Message, tc.code, tc.msg)
			}
		})
	}
}

// tarOnly is an uncompressed tar.
func tarOnly(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "component.yaml", Mode: 0o644, Size: int64(len(goodManifest))})
	tw.Write([]byte(goodManifest))
	tw.Close()
	return buf.Bytes()
}

// TestReadBundleZipSizeLies checks that a zip whose headers understate the
// size of an entry is refused, not trusted.
func TestReadBundleZipSizeLies(t *testing.T) {
	body := []byte(zeros(4 << 20))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "component.yaml", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(goodManifest))
	raw, err := zw.CreateRaw(&zip.FileHeader{Name: "big", Method: zip.Store, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(len(body)), UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	raw.Write(body)
	zw.Close()
	_, err = ReadBundle("lies.zip", buf.Bytes(), BundleLimits{MaxArchive: 20 << 20, MaxUnpacked: 1 << 20, MaxEntries: 10})
	if code := apperr.Code(err); code != apperr.TooLarge && code != apperr.Unprocessable {
		t.Fatalf("err = %v", err)
	}
}
