package handlers_test

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"appfactory/handlers"
	"appfactory/store"
)

func TestUploadComponent(t *testing.T) {
	w := newWorld(t)
	env := w.env
	data := tarGz(t, goodBundle("acme-theme"))
	var first handlers.ComponentJSON
	if code := apiUpload(t, env, w.token, "theme.tar.gz", data, &first); code != http.StatusCreated {
		t.Fatalf("upload: %d", code)
	}
	if first.Name != "acme-theme" || first.Version != "1.0.0" || first.Files != 2 || first.Size != int64(len(data)) || len(first.SHA256) != 64 || first.Format != "tar.gz" {
		t.Errorf("component %+v", first)
	}
	files := storedFiles(t, env)
	if len(files) != 1 || !strings.HasSuffix(files[0], "/components/"+first.SHA256[:2]+"/"+first.SHA256+".tar.gz") {
		t.Fatalf("stored files %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Equal(b, data) {
		t.Error("stored archive differs from the upload")
	}
	var again handlers.ComponentJSON
	if code := apiUpload(t, env, w.token, "other-name.tgz", data, &again); code != http.StatusOK || again.ID != first.ID {
		t.Errorf("re-upload: %d %+v", code, again)
	}
	var z handlers.ComponentJSON
	if code := apiUpload(t, env, w.token, "theme.zip", zipOf(t, goodBundle("zip-theme")), &z); code != http.StatusCreated || z.Format != "zip" {
		t.Errorf("zip upload: %d %+v", code, z)
	}

	// Another user uploading the same bytes gets a component of their own;
	// nobody sees or uses anyone else's.
	bob := env.CreateUser(t, "bob@example.com", store.RoleProspect)
	bobTok := env.Token(t, bob.ID)
	var bobs handlers.ComponentJSON
	if code := apiUpload(t, env, bobTok, "theme.tar.gz", data, &bobs); code != http.StatusCreated || bobs.ID == first.ID {
		t.Errorf("bob's upload: %d %+v", code, bobs)
	}
	var list struct{ Components []handlers.ComponentJSON }
	api(t, env, bobTok, "GET", "/api/v1/components", "", &list)
	if len(list.Components) != 1 || list.Components[0].ID != bobs.ID {
		t.Errorf("bob lists %+v", list.Components)
	}
	api(t, env, w.token, "GET", "/api/v1/components", "", &list)
	if len(list.Components) != 2 {
		t.Errorf("alice lists %d components", len(list.Components))
	}
	if len(storedFiles(t, env)) != 2 {
		t.Errorf("the same bytes are stored twice: %v", storedFiles(t, env))
	}
	var e apiError
	body := `{"name":"x","platform":"contentapp","version":"2.0","environment":"trial","custom_components":["` + first.ID + `"]}`
	if code := api(t, env, bobTok, "POST", "/api/v1/apps", body, &e); code != 422 || e.Error.Field != "custom_components" {
		t.Errorf("bob uses alice's component: %d %+v", code, e)
	}
	if code := api(t, env, w.token, "POST", "/api/v1/apps", body, nil); code != 201 {
		t.Errorf("alice uses her component: %d", code)
	}
	if code := apiUpload(t, env, "", "theme.tar.gz", data, nil); code != 401 {
		t.Errorf("upload without token: %d", code)
	}
}

func TestUploadAttacksStoreNothing(t *testing.T) {
	w := newWorld(t)
	env := w.env
	manifest := entry{name: "component.yaml", body: "name: evil\nversion: 1.0.0\n"}
	random := make([]byte, 21<<20)
	rand.Read(random)
	for _, tc := range []struct {
		name   string
		data   []byte
		status int
		says   string
	}{
		{"path traversal", tarGz(t, []entry{manifest, {name: "../../etc/evil", body: "x"}}), 422, "leaves the archive"},
		{"absolute path", tarGz(t, []entry{manifest, {name: "/etc/evil", body: "x"}}), 422, "absolute path"},
		{"symlink", tarGz(t, []entry{manifest, {name: "link", typ: tar.TypeSymlink, link: "/etc/passwd"}}), 422, ""},
		{"hard link", tarGz(t, []entry{manifest, {name: "hard", typ: tar.TypeLink, link: "component.yaml"}}), 422, ""},
		{"device", tarGz(t, []entry{manifest, {name: "dev", typ: tar.TypeChar}}), 422, ""},
		{"fifo", tarGz(t, []entry{manifest, {name: "fifo", typ: tar.TypeFifo}}), 422, ""},
		{"duplicate entry", tarGz(t, []entry{manifest, {name: "a", body: "1"}, {name: "a", body: "2"}}), 422, "twice"},
		{"no manifest", tarGz(t, []entry{{name: "a", body: "1"}}), 422, "component.yaml"},
		{"bad manifest", tarGz(t, []entry{{name: "component.yaml", body: "name: Not Valid\nversion: x\n"}}), 422, "component.yaml"},
		{"zip traversal", zipOf(t, []entry{manifest, {name: "../evil", body: "x"}}), 422, "leaves the archive"},
		{"not an archive", []byte("just some text"), 422, "not a .tar.gz"},
		{"empty file", []byte{}, 422, "empty"},
		{"bomb", tarGz(t, []entry{manifest, {name: "zeros", body: strings.Repeat("\x00", 60<<20)}}), 413, ""},
		{"too many entries", tarGz(t, manyEntries(manifest, 600)), 413, "entries"},
		{"oversize body", random, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			code := apiUpload(t, env, w.token, "c.tar.gz", tc.data, &e)
			if code != tc.status || e.Error.Message == "" || !strings.Contains(e.Error.Message, tc.says) {
				t.Errorf("%d %+v, want %d saying %q", code, e.Error, tc.status, tc.says)
			}
			if n := countComponents(t, env, w.c.User.ID); n != 0 {
				t.Errorf("%d components stored", n)
			}
			if f := storedFiles(t, env); len(f) != 0 {
				t.Errorf("files left behind: %v", f)
			}
		})
	}
}

func manyEntries(manifest entry, n int) []entry {
	es := []entry{manifest}
	for i := range n {
		es = append(es, entry{name: "f/" + strings.Repeat("x", 1+i%5) + "-" + string(rune('a'+i%26)) + "-" + strconv.Itoa(i), body: "x"})
	}
	return es
}

func TestWizardUploadLimits(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Big")
	random := make([]byte, 21<<20)
	rand.Read(random)
	code, body := upload(t, w, "/apps/"+id+"/wizard/3", [][2]string{{"nav", "upload"}}, "big.tar.gz", random)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than 20 MiB") {
		t.Errorf("oversize wizard upload: %d", code)
	}
	// The refusal is shown on the step, beside the file field, not on an
	// error page that loses the wizard.
	mustContain(t, body, "Step 3 of 6", `name="file"`, `id="wizard-form"`)
	// A file chosen with Next is uploaded too, then the wizard moves on.
	code, body = upload(t, w, "/apps/"+id+"/wizard/3", [][2]string{{"nav", "next"}}, "zip.zip", zipOf(t, goodBundle("zipped")))
	if code != http.StatusSeeOther {
		t.Fatalf("upload with next: %d %s", code, body)
	}
	if a := appOf(t, w, id); len(a.CustomComponents()) != 1 || a.Step != 4 {
		t.Errorf("after upload with next: %+v", a)
	}
	// No file chosen: the browser sends an empty part, which is no upload.
	code, _ = upload(t, w, "/apps/"+id+"/wizard/3", [][2]string{{"nav", "back"}}, "", []byte{})
	if code != http.StatusSeeOther {
		t.Errorf("back without a file: %d", code)
	}
}
