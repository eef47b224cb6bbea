package e2e

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"
)

// TestWizardJourney signs up, then walks the whole wizard in Chromium: a
// refused first step corrected, components that follow the clicks, an
// upload, a model built with the form-builder, a refused replicas count
// corrected, Back that keeps what was typed, and the review with Deploy.
func TestWizardJourney(t *testing.T) {
	s := startServer(t)
	page := newPage(t)
	var consoleErrors []string
	page.OnConsole(func(m playwright.ConsoleMessage) {
		// A refused form answers 422 on purpose; anything else is a fault.
		if m.Type() == "error" && !strings.Contains(m.Text(), "status of 422") {
			consoleErrors = append(consoleErrors, m.Text())
		}
	})
	do := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	click := func(name string) {
		t.Helper()
		do("click "+name, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)}).Click())
	}
	heading := func(text string) {
		t.Helper()
		expectVisible(t, page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: text, Level: playwright.Int(1)}), "heading "+text)
	}
	input := func(sel string) playwright.Locator { return page.Locator(sel) }

	_, err := page.Goto(s.URL + "/signup")
	do("open sign-up", err)
	do("name", page.GetByLabel("Name", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Fill("Pat Prospect"))
	do("email", page.GetByLabel("Work email").Fill("pat@example.com"))
	do("password", page.GetByLabel("Password").Fill("a fine long passphrase"))
	click("Create my account")
	heading("My apps")

	// Step 1: a missing name is refused, and the choice of version stays.
	do("new app", page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "New app", Exact: playwright.Bool(true)}).First().Click())
	heading("Platform")
	do("platform", input(`input[name=platform][value=contentapp]`).Check())
	if n, _ := input(`input[name=version][value="0.9"]`).Count(); n != 0 {
		t.Error("a deprecated version is offered for a new app")
	}
	do("version", input(`input[name=version][value="2.0"]`).Check())
	click("Next: Components")
	expectVisible(t, page.GetByText("Give the application a name."), "name error")
	if ok, _ := input(`input[name=version][value="2.0"]`).IsChecked(); !ok {
		t.Error("the chosen version was lost by the refused step")
	}
	do("app name", page.GetByLabel("App name").Fill("Contract Desk"))
	click("Next: Components")

	// Step 2: choosing Workflow brings in Versioning, locked; Export
	// disables the Audit trail.
	heading("Components")
	do("workflow", input(`input[name=components][value=workflow]`).Check())
	expectVisible(t, page.GetByText("Selected because Workflow needs it."), "requirement note")
	if ok, _ := input(`input[type=checkbox][name=components][value=versioning]`).IsChecked(); !ok {
		t.Error("versioning was not selected with workflow")
	}
	do("export", input(`input[name=components][value=export]`).Check())
	expectVisible(t, page.GetByText("Unavailable: it conflicts with Export."), "conflict note")
	if dis, _ := input(`input[type=checkbox][name=components][value=audit]`).IsDisabled(); !dis {
		t.Error("audit stays enabled beside export")
	}
	click("Next: Custom components")

	// Step 3: upload a component made here.
	heading("Custom components")
	do("choose file", page.GetByLabel("Component archive").SetInputFiles(themeArchive(t)))
	click("Upload")
	expectVisible(t, page.GetByText("Uploaded acme-theme 1.0.0; it is selected for this app."), "upload notice")
	if ok, _ := input(`input[name=custom_components]`).First().IsChecked(); !ok {
		t.Error("the uploaded component is not selected")
	}
	click("Next: Application model")

	// Step 4: the form-builder.
	heading("Application model")
	do("title", page.GetByLabel("Application title").Fill("Contracts"))
	click("Add a document type")
	do("doctype name", input(`input[name="doctypes[0].name"]`).Fill("Contract"))
	do("field name", input(`input[name="doctypes[0].fields[0].name"]`).Fill("amount"))
	_, err = input(`select[name="doctypes[0].fields[0].type"]`).SelectOption(playwright.SelectOptionValues{Values: &[]string{"number"}})
	do("field type", err)
	click("Add a field to document type 1")
	do("second field", input(`input[name="doctypes[0].fields[1].name"]`).Fill("status"))
	_, err = input(`select[name="doctypes[0].fields[1].type"]`).SelectOption(playwright.SelectOptionValues{Values: &[]string{"choice"}})
	do("second type", err)
	do("choices", input(`input[name="doctypes[0].fields[1].choices"]`).Fill("open, signed"))
	// Enter moves on; it does not press an editor button.
	do("enter", input(`input[name="doctypes[0].fields[1].choices"]`).Press("Enter"))

	// Step 5: too many replicas for a trial, corrected.
	heading("Environment")
	do("trial", input(`input[name=environment][value=trial]`).Check())
	do("replicas", page.GetByRole("spinbutton", playwright.PageGetByRoleOptions{Name: "Replicas"}).Fill("3"))
	click("Next: Review")
	expectVisible(t, page.GetByText("Trial allows at most 1 replica."), "replicas error")
	// Back and forth keeps the model.
	click("Back")
	heading("Application model")
	if v, _ := input(`input[name="doctypes[0].fields[1].choices"]`).InputValue(); v != "open, signed" {
		t.Errorf("choices after Back: %q", v)
	}
	click("Next: Environment")
	do("demo", input(`input[name=environment][value=demo]`).Check())
	expectVisible(t, page.GetByText("web containers: 1 to 2 in Demo"), "replicas bound of demo")
	do("replicas again", page.GetByRole("spinbutton", playwright.PageGetByRoleOptions{Name: "Replicas"}).Fill("2"))
	click("Next: Review")

	// Step 6: the review.
	heading("Review")
	for _, text := range []string{"FROM appfactory/contentapp:2.0", "CONTENTAPP_FEATURE_WORKFLOW", "acme-theme", "replicas: 2"} {
		expectVisible(t, page.GetByText(text).First(), text)
	}
	deploy := page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Deploy"})
	expectVisible(t, deploy, "Deploy button")
	if dis, _ := deploy.IsDisabled(); dis {
		t.Error("Deploy is disabled on a complete app")
	}
	if !regexp.MustCompile(`/apps/[a-z2-7]{16}/wizard/6$`).MatchString(page.URL()) {
		t.Errorf("review at %s", page.URL())
	}
	if len(consoleErrors) > 0 {
		t.Errorf("console errors (CSP?): %v", consoleErrors)
	}
}

// themeArchive writes a small component bundle and returns its path.
func themeArchive(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "acme-theme.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{
		"component.yaml": "name: acme-theme\nversion: 1.0.0\ndescription: ACME's colours.\n",
		"theme/site.css": "body { color: #123; }\n",
	} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(strings.Clone(body)))
	}
	tw.Close()
	gz.Close()
	return path
}
