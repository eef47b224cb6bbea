package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"appfactory/store"
)

// startDraft saves step 1 of a new app and returns its id.
func startDraft(t *testing.T, w *world, name string) string {
	t.Helper()
	code, loc, body := post(t, w.c, "/apps/new", url.Values{"name": {name}, "platform": {"contentapp"}, "version": {"2.0"}, "nav": {"next"}})
	if code != http.StatusSeeOther {
		t.Fatalf("step 1: %d %s", code, body)
	}
	return wizardURL(t, loc, "2")
}

func TestWizardStepOneValidation(t *testing.T) {
	w := newWorld(t)
	code, body := get(t, w.c, "/apps/new")
	if code != 200 {
		t.Fatalf("GET /apps/new: %d", code)
	}
	mustContain(t, body, `name="platform"`, `value="contentapp"`, `name="version"`, "LTS", `name="csrf_token"`)
	if strings.Contains(body, `value="0.9"`) {
		t.Error("a deprecated version is offered for a new app")
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		message string
		kept    string
	}{
		{"no name", url.Values{"name": {""}, "platform": {"contentapp"}, "version": {"2.0"}}, "Give the application a name", `value="2.0" checked`},
		{"no version", url.Values{"name": {"Docs"}, "platform": {"contentapp"}}, "Choose a version", `value="Docs"`},
		{"unknown version", url.Values{"name": {"Docs"}, "platform": {"contentapp"}, "version": {"7"}}, "has no version", `value="Docs"`},
		{"deprecated version", url.Values{"name": {"Docs"}, "platform": {"contentapp"}, "version": {"0.9"}}, "is deprecated", `value="Docs"`},
		{"unknown platform", url.Values{"name": {"Docs"}, "platform": {"nope"}, "version": {"1"}}, "Unknown platform", `value="Docs"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("nav", "next")
			code, _, body := post(t, w.c, "/apps/new", tc.form)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", code)
			}
			mustContain(t, body, tc.message, tc.kept, `aria-invalid="true"`)
		})
	}
	if n := countApps(t, w.env); n != 0 {
		t.Errorf("refused first steps stored %d apps", n)
	}
}

// TestWizardWalk goes through every step with a refusal on each, then deploys.
func TestWizardWalk(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Contracts")
	step := func(n string) string { return "/apps/" + id + "/wizard/" + n }
	if a := appOf(t, w, id); a.Step != 2 || a.Platform != "contentapp" || a.Model().Title != "Contracts" || a.Environment != "trial" {
		t.Fatalf("draft after step 1: %+v", a)
	}

	// 2: workflow needs versioning; the server is the authority.
	code, _, body := post(t, w.c, step("2"), url.Values{"components": {"workflow", "comments"}, "nav": {"next"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("step 2 without a requirement: %d", code)
	}
	mustContain(t, body, "Workflow requires Versioning", `value="comments" checked`)
	code, _, body = post(t, w.c, step("2"), url.Values{"components": {"audit", "export", "versioning"}, "nav": {"next"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "conflicts with") {
		t.Fatalf("step 2 with a conflict: %d", code)
	}
	code, loc, _ := post(t, w.c, step("2"), url.Values{"components": {"workflow", "versioning", "comments"}, "nav": {"next"}})
	wizardURL(t, loc, "3")
	if got := appOf(t, w, id).Components(); strings.Join(got, ",") != "workflow,versioning,comments" {
		t.Errorf("components saved %v (%d)", got, code)
	}

	// 3: a bad archive is refused with its reason; a good one is stored and selected.
	code, body = upload(t, w, step("3"), [][2]string{{"nav", "upload"}}, "evil.tar.gz",
		tarGz(t, append(goodBundle("evil"), entry{name: "../../etc/evil", body: "x"})))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "leaves the archive") {
		t.Fatalf("bad upload: %d", code)
	}
	if n := countComponents(t, w.env, w.c.User.ID); n != 0 || len(storedFiles(t, w.env)) != 0 {
		t.Fatalf("refused upload left %d rows, files %v", n, storedFiles(t, w.env))
	}
	code, body = upload(t, w, step("3"), [][2]string{{"nav", "upload"}}, "theme.tar.gz", tarGz(t, goodBundle("acme-theme")))
	if code != 200 {
		t.Fatalf("good upload: %d", code)
	}
	mustContain(t, body, "Uploaded acme-theme 1.0.0", `name="custom_components"`)
	custom := appOf(t, w, id).CustomComponents()
	if len(custom) != 1 || len(storedFiles(t, w.env)) != 1 {
		t.Fatalf("after upload: selection %v, files %v", custom, storedFiles(t, w.env))
	}
	code, loc, _ = post(t, w.c, step("3"), url.Values{"custom_components": custom, "nav": {"next"}})
	wizardURL(t, loc, "4")

	// 4: the model editor adds a document type through htmx, refuses bad
	// names and keeps what was typed.
	code, body = htmxPost(t, w, step("4"), "model-editor", url.Values{"title": {"Contract Desk"}, "color": {"#112233"}, "op": {"add-doctype"}})
	if code != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<div id="model-editor"`) || !strings.Contains(body, `name="doctypes[0].fields[0].name"`) {
		t.Fatalf("add a document type: %d %.300s", code, body)
	}
	bad := url.Values{"title": {"Contract Desk"}, "color": {"#112233"},
		"doctypes[0].name": {""}, "doctypes[0].fields[0].name": {"amount"}, "doctypes[0].fields[0].type": {"number"},
		"doctypes[0].fields[1].name": {"kind"}, "doctypes[0].fields[1].type": {"choice"}, "doctypes[0].fields[1].choices": {""},
		"nav": {"next"}}
	code, _, body = post(t, w.c, step("4"), bad)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad model: %d", code)
	}
	mustContain(t, body, "give it a name", "needs at least one option", `value="Contract Desk"`, `value="amount"`, `value="#112233"`)
	good := url.Values{"title": {"Contract Desk"}, "color": {"#112233"},
		"doctypes[0].name": {"Contract"}, "doctypes[0].fields[0].name": {"amount"}, "doctypes[0].fields[0].type": {"number"},
		"doctypes[0].fields[1].name": {"kind"}, "doctypes[0].fields[1].type": {"choice"}, "doctypes[0].fields[1].choices": {"buy, sell"},
		"nav": {"next"}}
	_, loc, _ = post(t, w.c, step("4"), good)
	wizardURL(t, loc, "5")
	if m := appOf(t, w, id).Model(); len(m.Doctypes) != 1 || strings.Join(m.Doctypes[0].Fields[1].Choices, "|") != "buy|sell" {
		t.Fatalf("model saved %+v", m)
	}

	// 5: replicas are bounded by the environment.
	code, _, body = post(t, w.c, step("5"), url.Values{"environment": {"trial"}, "replicas": {"3"}, "nav": {"next"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Trial allows at most 1 replica") || !strings.Contains(body, `value="3"`) {
		t.Fatalf("too many replicas: %d", code)
	}
	code, _, body = post(t, w.c, step("5"), url.Values{"environment": {"demo"}, "replicas": {"two"}, "nav": {"next"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "whole number") || !strings.Contains(body, `value="two"`) {
		t.Fatalf("replicas not a number: %d", code)
	}
	_, loc, _ = post(t, w.c, step("5"), url.Values{"environment": {"demo"}, "replicas": {"2"}, "nav": {"next"}})
	wizardURL(t, loc, "6")

	// 6: the review shows the assembly, and the factory's own Dockerfile
	// and stack.
	code, body = get(t, w.c, step("6"))
	if code != 200 {
		t.Fatalf("review: %d", code)
	}
	mustContain(t, body, "<code>FROM appfactory/contentapp:2.0\n", "CONTENTAPP_FEATURE_WORKFLOW", "COPY rootfs/ /",
		"acme-theme", "name: af-contracts", "\n  store:\n", "\n  web:\n", "replicas: 2", "image: appfactory/tenant-contentapp:",
		"Contract Desk", ">Deploy</button>")
	if strings.Contains(body, "Fix these before deploying") {
		t.Errorf("review reports problems: %s", body)
	}
	code, loc, _ = post(t, w.c, "/apps/"+id+"/deploy", nil)
	tenantID, ok := strings.CutPrefix(loc, "/tenants/")
	if code != http.StatusSeeOther || !ok {
		t.Fatalf("deploy: %d %s", code, loc)
	}
	if a := appOf(t, w, id); a.Status != store.AppReady {
		t.Fatalf("after deploy: %+v", a)
	}
	if woken := w.env.Wakes.IDs(); len(woken) != 1 || woken[0] != tenantID {
		t.Errorf("reconciler woken for %v, want [%s]", woken, tenantID)
	}
	_, body = get(t, w.c, "/apps/"+id)
	mustContain(t, body, "Contracts", "Edit into a new version")
	// A finished app is no longer edited in place.
	if code, _, _ := post(t, w.c, step("2"), url.Values{"components": {"comments"}, "nav": {"next"}}); code != http.StatusConflict {
		t.Errorf("editing a finished app in place: %d", code)
	}
}

func TestWizardBackAndForthKeepsValues(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Notes")
	step := func(n string) string { return "/apps/" + id + "/wizard/" + n }
	// Back from step 2 keeps the selection even though it is incomplete.
	_, loc, _ := post(t, w.c, step("2"), url.Values{"components": {"workflow"}, "nav": {"back"}})
	wizardURL(t, loc, "1")
	_, body := get(t, w.c, step("1"))
	mustContain(t, body, `value="Notes"`, `value="2.0" checked`)
	_, body = get(t, w.c, step("2"))
	mustContain(t, body, `value="workflow" checked`)

	// A model typed on step 4 survives going back and forth, and an
	// invalid one is kept by Back rather than lost.
	model := url.Values{"title": {"Notebook"}, "color": {"#abcdef"}, "doctypes[0].name": {"Note"},
		"doctypes[0].fields[0].name": {""}, "doctypes[0].fields[0].type": {"text"}, "nav": {"back"}}
	_, loc, _ = post(t, w.c, step("4"), model)
	wizardURL(t, loc, "3")
	_, body = get(t, w.c, step("4"))
	mustContain(t, body, `value="Notebook"`, `value="#abcdef"`, `value="Note"`)

	// Step 5 back with a replicas count that is not a number keeps the old count.
	_, loc, _ = post(t, w.c, step("5"), url.Values{"environment": {"demo"}, "replicas": {"x"}, "nav": {"back"}})
	wizardURL(t, loc, "4")
	if a := appOf(t, w, id); a.Environment != "demo" || a.Replicas != 1 || a.Step != 4 {
		t.Errorf("after back from 5: env %s replicas %d step %d", a.Environment, a.Replicas, a.Step)
	}
	// What is saved unvalidated stays within bounds.
	huge := url.Values{"title": {strings.Repeat("t", 5000)}, "nav": {"back"}}
	for i := range 50 {
		huge.Set(fmt.Sprintf("doctypes[%d].name", i), "D")
	}
	post(t, w.c, step("4"), huge)
	if m := appOf(t, w, id).Model(); len(m.Doctypes) != 10 || len(m.Title) != 200 {
		t.Errorf("unbounded model kept: %d doctypes, title of %d", len(m.Doctypes), len(m.Title))
	}
	post(t, w.c, step("2"), url.Values{"components": {"comments", "no-such", "search"}, "nav": {"close"}})
	post(t, w.c, step("5"), url.Values{"environment": {"moon"}, "replicas": {"1"}, "nav": {"close"}})
	if a := appOf(t, w, id); strings.Join(a.Components(), ",") != "comments,search" || a.Environment != "demo" {
		t.Errorf("unknown values kept: %v %s", a.Components(), a.Environment)
	}
	// Back cannot slip a deprecated version in.
	post(t, w.c, step("1"), url.Values{"name": {"Notes"}, "platform": {"contentapp"}, "version": {"0.9"}, "nav": {"close"}})
	if a := appOf(t, w, id); a.Version != "2.0" || a.Name != "Notes" {
		t.Errorf("lenient save took version %s", a.Version)
	}
}

func TestDraftResumes(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Half done")
	post(t, w.c, "/apps/"+id+"/wizard/2", url.Values{"components": {"comments"}, "nav": {"next"}})
	// A new session (a closed tab, another browser) finds the draft where it was.
	again := w.env.Visitor(t)
	again.Login(t, "alice@example.com", "correct-horse-battery-staple")
	code, body := get(t, again, "/apps/new")
	if code != 200 {
		t.Fatalf("/apps/new: %d", code)
	}
	mustContain(t, body, "Resume draft", "/apps/"+id+"/wizard/3", "Half done")
	_, body = get(t, again, "/apps")
	mustContain(t, body, "Drafts", "/apps/"+id+"/wizard/3", "Resume")
	_, body = get(t, again, "/apps/"+id+"/wizard/2")
	mustContain(t, body, `value="comments" checked`)
	// The review is where a closed tab resumes once reached.
	get(t, again, "/apps/"+id+"/wizard/6")
	if a := appOf(t, w, id); a.Step != 6 {
		t.Errorf("step after opening the review: %d", a.Step)
	}
}

func TestComponentListFollowsClicks(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Audit")
	code, body := htmxPost(t, w, "/apps/"+id+"/wizard/2", "component-list", url.Values{"components": {"audit"}})
	if code != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<fieldset id="component-list"`) {
		t.Fatalf("partial: %d %.200s", code, body)
	}
	// Versioning is added and locked, export is disabled.
	mustContain(t, body, `value="versioning" checked disabled`, `<input type="hidden" name="components" value="versioning">`,
		"Selected because Audit trail needs it", `value="export" disabled`, "conflicts with Audit trail")
	if got := appOf(t, w, id).Components(); strings.Join(got, ",") != "versioning,audit" {
		t.Errorf("saved selection %v", got)
	}
	// On 1.0, search is not offered.
	post(t, w.c, "/apps/"+id+"/wizard/1", url.Values{"name": {"Audit"}, "platform": {"contentapp"}, "version": {"1.0"}, "nav": {"next"}})
	_, body = get(t, w.c, "/apps/"+id+"/wizard/2")
	mustContain(t, body, `value="search" disabled`, "Not available on this version")
	if got := appOf(t, w, id).Components(); strings.Join(got, ",") != "versioning" {
		t.Errorf("components not offered by 1.0 kept: %v", got)
	}
}

func TestDuplicateAndNewVersion(t *testing.T) {
	w := newWorld(t)
	var app struct{ ID string }
	code := api(t, w.env, w.token, "POST", "/api/v1/apps", `{"name":"Ledger","platform":"contentapp","version":"1.0","components":["comments"],"environment":"demo","replicas":2,"model":{"title":"Ledger","doctypes":[{"name":"Entry","fields":[{"name":"amount","type":"number"}]}]}}`, &app)
	if code != 201 {
		t.Fatalf("create: %d", code)
	}
	code, loc, _ := post(t, w.c, "/apps/"+app.ID+"/duplicate", nil)
	dup := wizardURL(t, loc, "1")
	d := appOf(t, w, dup)
	if d.Name != "Copy of Ledger" || d.ParentID.String != app.ID || !d.IsDraft() || d.Replicas != 2 || d.Model().Doctypes[0].Name != "Entry" {
		t.Errorf("duplicate %d: %+v", code, d)
	}
	_, loc, _ = post(t, w.c, "/apps/"+app.ID+"/edit", nil)
	v2 := wizardURL(t, loc, "1")
	n := appOf(t, w, v2)
	if n.Name != "Ledger" || n.Revision != 2 || n.ParentID.String != app.ID || !n.IsDraft() {
		t.Errorf("new version %+v", n)
	}
	if orig := appOf(t, w, app.ID); orig.Status != store.AppReady {
		t.Errorf("original changed: %+v", orig)
	}
	_, body := get(t, w.c, "/apps")
	mustContain(t, body, "Ledger (v2)", "Copy of Ledger", `id="apps"`, "Duplicate", `id="deployments"`)
}

func TestAppPagesAuthorisation(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Private")
	bob := w.env.SignUp(t, "bob@example.com", store.RoleProspect)
	sales := w.env.SignUp(t, "sam@example.com", store.RoleSales)
	for _, path := range []string{"/apps/" + id, "/apps/" + id + "/wizard/2", "/apps/" + id + "/wizard/1/versions?platform=contentapp"} {
		if code, _ := get(t, bob, path); code != http.StatusNotFound {
			t.Errorf("bob GET %s: %d", path, code)
		}
	}
	for _, path := range []string{"/apps/" + id + "/wizard/2", "/apps/" + id + "/duplicate", "/apps/" + id + "/delete", "/apps/" + id + "/deploy"} {
		if code, _, _ := post(t, bob, path, url.Values{"nav": {"next"}}); code != http.StatusNotFound {
			t.Errorf("bob POST %s: %d", path, code)
		}
		if code, _, _ := post(t, sales, path, url.Values{"nav": {"next"}}); code != http.StatusNotFound {
			t.Errorf("sales POST %s: %d", path, code)
		}
	}
	code, body := get(t, sales, "/apps/"+id)
	if code != 200 || strings.Contains(body, "Resume the wizard") {
		t.Errorf("sales reads the app: %d, with owner actions %v", code, strings.Contains(body, "Resume the wizard"))
	}
	visitor := w.env.Visitor(t)
	if resp := visitor.Get(t, "/apps/new"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("visitor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _, _ := post(t, w.c, "/apps/"+id+"/delete", nil); code != http.StatusSeeOther {
		t.Errorf("owner deletes: %d", code)
	}
	if n := countApps(t, w.env); n != 0 {
		t.Errorf("apps left: %d", n)
	}
}

func TestWizardPartials(t *testing.T) {
	w := newWorld(t)
	code, body := get(t, w.c, "/apps/new/versions?platform=contentapp")
	if code != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<fieldset id="versions"`) || strings.Contains(body, `value="0.9"`) || !strings.Contains(body, `value="1.0"`) {
		t.Errorf("versions of a new app: %d %.300s", code, body)
	}
	if _, body := get(t, w.c, "/apps/new/versions?platform=nope"); !strings.Contains(body, "Choose a platform") {
		t.Errorf("versions of an unknown platform: %.300s", body)
	}
	// An app that already has a deprecated version keeps it on offer.
	var app struct{ ID string }
	if code := api(t, w.env, w.token, "POST", "/api/v1/apps", `{"name":"Old","platform":"contentapp","version":"1.0","environment":"trial"}`, &app); code != 201 {
		t.Fatalf("create: %d", code)
	}
	old := appOf(t, w, app.ID)
	old.Version, old.Status = "0.9", store.AppDraft
	if err := w.env.DB.UpdateApp(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, w.c, "/apps/"+app.ID+"/wizard/1/versions?platform=contentapp"); !strings.Contains(body, `value="0.9"`) || !strings.Contains(body, "deprecated") {
		t.Errorf("the app's deprecated version is not offered: %.300s", body)
	}
	code, _, _ = post(t, w.c, "/apps/"+app.ID+"/wizard/1", url.Values{"name": {"Old"}, "platform": {"contentapp"}, "version": {"0.9"}, "nav": {"next"}})
	if code != http.StatusSeeOther {
		t.Errorf("keeping a deprecated version: %d", code)
	}
	code, body = get(t, w.c, "/apps/"+app.ID+"/wizard/5/replicas?environment=production&replicas=4")
	if code != 200 || !strings.Contains(body, `max="7"`) || !strings.Contains(body, `value="4"`) || !strings.Contains(body, "1 to 7 in Production") {
		t.Errorf("replicas field: %d %s", code, body)
	}
}

// TestAppListsUseCatalogNames: lists show the catalog's names, not its ids,
// and the environment step counts replicas in good English.
func TestAppListsUseCatalogNames(t *testing.T) {
	w := newWorld(t)
	id := startDraft(t, w, "Contracts")
	code, body := get(t, w.c, "/apps")
	if code != 200 {
		t.Fatalf("GET /apps: %d", code)
	}
	mustContain(t, body, "<td>ContentApp 2.0</td>")
	if strings.Contains(body, "<td>contentapp") {
		t.Error("the drafts list shows the platform's id")
	}
	code, body = get(t, w.c, "/apps/"+id+"/wizard/5")
	if code != 200 {
		t.Fatalf("environment step: %d", code)
	}
	mustContain(t, body, "up to 1 replica</span>", "up to 7 replicas</span>")
	if strings.Contains(body, "up to 1 replicas") {
		t.Error(`the environment step says "up to 1 replicas"`)
	}
}
