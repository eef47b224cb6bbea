package catalog

import (
	"errors"
	"os"
	"path"
	"strings"
	"testing"

	"appfactory/apperr"
)

// FuzzParse feeds the catalog loader arbitrary files: it must never panic,
// and must either fail with a *LoadError or return a catalog whose
// references hold.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(defaultCatalog))
	for _, name := range []string{"examples/nuxeo.yaml", "examples/wordpress.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("platforms: &p [*p]\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a]\nplatforms: [*b, *b]\n"))
	f.Add([]byte(strings.Replace(minimal, "          image: ${APP_IMAGE}\n", "          image: ${APP_IMAGE}\n          <<: {privileged: true}\n", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("err = %#v, want a *LoadError with problems", err)
			}
			return
		}
		if len(c.Platforms) == 0 || len(c.Environments) == 0 {
			t.Fatal("a catalog without platforms or environments loaded")
		}
		for _, p := range c.Platforms {
			for _, comp := range p.Components {
				for _, id := range append(append([]string(nil), comp.Requires...), comp.Conflicts...) {
					if _, ok := p.Component(id); !ok {
						t.Fatalf("component %s refers to unknown %s", comp.ID, id)
					}
				}
			}
		}
	})
}

// FuzzReadBundle feeds the archive checker arbitrary uploads: it must never
// panic, must refuse with an *apperr.Error, and whatever it accepts must be
// clean relative paths within the limits.
func FuzzReadBundle(f *testing.F) {
	m := entry{name: "component.yaml", body: goodManifest, mode: 0o644}
	f.Add(tgz(f, dir("./"), file("./component.yaml", goodManifest), dir("./theme/"), file("./theme/site.css", "body{}")))
	f.Add(zipOf(f, m, dir("theme/"), file("theme/site.css", "body{}")))
	f.Add(tgz(f, m, file("../../etc/evil", "x")))
	f.Add(tgz(f, m, file("a", "1"), file("./a", "2")))
	f.Add(tgz(f, m, entry{name: "l", typ: '2', link: "/etc/passwd"}))
	f.Add(zipOf(f, m, file("../evil", "x")))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	lim := BundleLimits{MaxArchive: 1 << 20, MaxUnpacked: 256 << 10, MaxEntries: 50, MaxRatio: 50}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBundle("fuzz", data, lim)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || (ae.Code != apperr.Unprocessable && ae.Code != apperr.TooLarge) || b != nil {
				t.Fatalf("err = %#v, bundle %v", err, b != nil)
			}
			return
		}
		var total int64
		seen := map[string]bool{}
		for i, f := range b.Files {
			if f.Path == "" || path.Clean(f.Path) != f.Path || path.IsAbs(f.Path) || strings.HasPrefix(f.Path, "../") || f.Path == ".." {
				t.Fatalf("unclean path %q", f.Path)
			}
			if seen[f.Path] || (i > 0 && b.Files[i-1].Path >= f.Path) {
				t.Fatalf("files not unique and sorted at %q", f.Path)
			}
			if f.Mode != 0o644 && f.Mode != 0o755 {
				t.Fatalf("mode %o", f.Mode)
			}
			seen[f.Path] = true
			total += int64(len(f.Data))
		}
		if total > lim.MaxUnpacked || !seen[ManifestName] || len(b.Files) > lim.MaxEntries {
			t.Fatalf("limits broken: %d bytes, %d files", total, len(b.Files))
		}
		if !bundleNamePattern.MatchString(b.Manifest.Name) || !semverPattern.MatchString(b.Manifest.Version) {
			t.Fatalf("manifest %+v", b.Manifest)
		}
	})
}
