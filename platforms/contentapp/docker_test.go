package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

// customisation is what the factory would bake into a tenant image.
var customisation = map[string]string{
	"app/config/model.json": `{"title":"Acme Docs","color":"#aa3355","doctypes":[{"name":"Contract","fields":[
		{"name":"party","type":"text"},{"name":"amount","type":"number"},{"name":"kind","type":"choice","choices":["nda","msa"]}]}]}`,
	"app/config/components.json":        `["comments","versioning","workflow","search"]`,
	"app/custom/stamp/component.yaml":   "name: Stamp\nversion: 1.2.3\ndescription: Adds a stamp\n",
	"app/custom/stamp/assets/stamp.txt": "stamp",
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDockerStack builds the images, runs store and web hardened on their
// own network with a named volume, creates a document through the web
// form, restarts both containers, upgrades them from 1.0 to 2.0, and
// checks that the document survives each step.
func TestDockerStack(t *testing.T) {
	e := newDockerEnv(t)
	repo := e.buildPlatform(t)
	tags := map[string]string{}
	for _, v := range []string{"1.0", "2.0"} {
		tags[v] = e.name("tenant") + ":" + v
		files := map[string]string{}
		for k, body := range customisation {
			files[k] = body
		}
		e.buildDerived(t, repo+":"+v, tags[v], files)
	}
	e.network(t)
	vol := e.volume(t)

	store := e.run(t, tags["1.0"], "store", "store-1", vol)
	web := e.run(t, tags["1.0"], "web", "web-1", "")
	base := "http://" + e.addr(t, web, 8080)
	waitOK(t, base+"/healthz")
	t.Logf("web container: /healthz 200 %v after its start call returned", time.Since(e.started).Round(time.Millisecond))
	waitOK(t, base+"/readyz")
	for _, id := range []string{store, web} {
		if code := e.exec(t, id, "/contentapp", "health"); code != 0 {
			t.Fatalf("HEALTHCHECK command in %s exits %d", id, code)
		}
	}

	code, page := httpGet(t, base+"/")
	if code != http.StatusOK {
		t.Fatalf("home = %d", code)
	}
	for _, want := range []string{"<title>Acme Docs</title>", "<strong>Contract</strong>", "<strong>Stamp</strong>", "contentapp 1.0", `role="search"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("home page lacks %q", want)
		}
	}
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(base+"/documents", url.Values{"doctype": {"Contract"}, "title": {"Survives restarts"}, "f.amount": {"42"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("create = %d %v", resp.StatusCode, err)
	}
	docPath := loc.Path

	check := func(step, version string) {
		t.Helper()
		code, page := httpGet(t, base+docPath)
		if code != http.StatusOK || !strings.Contains(page, "<h2>Survives restarts</h2>") || !strings.Contains(page, "<dd>42</dd>") {
			t.Fatalf("%s: document page = %d\n%s", step, code, page)
		}
		if !strings.Contains(page, "contentapp "+version) {
			t.Fatalf("%s: footer does not show %s", step, version)
		}
	}
	check("before restart", "1.0")

	// Restart: what passivation and activation do to the containers.
	e.stop(t, web)
	e.stop(t, store)
	ctx := context.Background()
	for _, id := range []string{store, web} {
		if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	restarted := time.Now()
	base = "http://" + e.addr(t, web, 8080)
	waitOK(t, base+"/readyz")
	t.Logf("after restart: /readyz 200 %v after the start calls returned", time.Since(restarted).Round(time.Millisecond))
	check("after restart", "1.0")

	// Upgrade: new containers of 2.0 on the same volume.
	e.stop(t, web)
	e.stop(t, store)
	for _, id := range []string{web, store} {
		if err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.run(t, tags["2.0"], "store", "store-2", vol)
	web = e.run(t, tags["2.0"], "web", "web-2", "")
	base = "http://" + e.addr(t, web, 8080)
	waitOK(t, base+"/readyz")
	check("after upgrade", "2.0")
	if _, page := httpGet(t, base+"/"); !strings.Contains(page, `<span class="count" title="documents in this application">1</span>`) {
		t.Fatal("2.0 home page does not show the document count")
	}
}
