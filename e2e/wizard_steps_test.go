package e2e

import (
	"regexp"
	"strings"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"
)

// wizard walks the app wizard in a signed-in page.
type wizard struct {
	t    *testing.T
	page playwright.Page
}

// doctypeSpec is a document type to enter in the model editor.
type doctypeSpec struct {
	Name   string
	Fields []fieldSpec
}

// fieldSpec is a field of a document type; Choices only for choice fields.
type fieldSpec struct {
	Name, Type, Choices string
}

func (w wizard) do(what string, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// click presses the button of that exact name.
func (w wizard) click(name string) {
	w.t.Helper()
	w.do("click "+name, button(w.page, name).Click())
}

// heading waits for the step's heading.
func (w wizard) heading(text string) {
	w.t.Helper()
	expectVisible(w.t, w.page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: text, Level: playwright.Int(1)}), "heading "+text)
}

func (w wizard) input(sel string) playwright.Locator { return w.page.Locator(sel) }

// check ticks the radio button or checkbox of that name and value.
func (w wizard) check(name, value string) {
	w.t.Helper()
	w.do("check "+name+"="+value, w.input(`input[name="`+name+`"][value="`+value+`"]`).Check())
}

// start opens the wizard from My apps and fills step 1 (without Next).
func (w wizard) start(name, platform, version string) {
	w.t.Helper()
	w.do("new app", w.page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "New app", Exact: playwright.Bool(true)}).First().Click())
	w.heading("Platform")
	w.check("platform", platform)
	w.check("version", version)
	if name != "" {
		w.do("app name", w.page.GetByLabel("App name").Fill(name))
	}
}

// platform is step 1 whole: it lands on Components.
func (w wizard) platform(name, platform, version string) {
	w.t.Helper()
	w.start(name, platform, version)
	w.click("Next: Components")
	w.heading("Components")
}

// components ticks catalog components and moves on to Custom components.
func (w wizard) components(ids ...string) {
	w.t.Helper()
	for _, id := range ids {
		w.check("components", id)
	}
	w.click("Next: Custom components")
	w.heading("Custom components")
}

// upload sends a component archive; the wizard selects it.
func (w wizard) upload(path, nameVersion string) {
	w.t.Helper()
	w.do("choose file", w.page.GetByLabel("Component archive").SetInputFiles(path))
	w.click("Upload")
	expectVisible(w.t, w.page.GetByText("Uploaded "+nameVersion+"; it is selected for this app."), "upload notice")
}

// toModel moves from Custom components to the Application model.
func (w wizard) toModel() {
	w.t.Helper()
	w.click("Next: Application model")
}

// fillModel enters the title, colour and document types through the
// form-builder (each Add button swaps the editor).
func (w wizard) fillModel(title, color string, dts ...doctypeSpec) {
	w.t.Helper()
	w.do("title", w.page.GetByLabel("Application title").Fill(title))
	if color != "" {
		w.do("colour", w.page.GetByLabel("Primary colour").Fill(color))
	}
	for i, dt := range dts {
		w.click("Add a document type")
		prefix := `doctypes[` + itoa(i) + `]`
		w.do("doctype name", w.input(`input[name="`+prefix+`.name"]`).Fill(dt.Name))
		for j, f := range dt.Fields {
			if j > 0 {
				w.click("Add a field to document type " + itoa(i+1))
			}
			fp := prefix + `.fields[` + itoa(j) + `]`
			w.do("field name", w.input(`input[name="`+fp+`.name"]`).Fill(f.Name))
			_, err := w.input(`select[name="` + fp + `.type"]`).SelectOption(playwright.SelectOptionValues{Values: &[]string{f.Type}})
			w.do("field type", err)
			if f.Choices != "" {
				w.do("choices", w.input(`input[name="`+fp+`.choices"]`).Fill(f.Choices))
			}
		}
	}
}

// model is step 4 whole: it lands on Environment.
func (w wizard) model(title, color string, dts ...doctypeSpec) {
	w.t.Helper()
	w.heading("Application model")
	w.fillModel(title, color, dts...)
	w.click("Next: Environment")
	w.heading("Environment")
}

// environment is step 5 whole: it lands on the Review.
func (w wizard) environment(env string, replicas int) {
	w.t.Helper()
	w.check("environment", env)
	w.do("replicas", w.page.GetByRole("spinbutton", playwright.PageGetByRoleOptions{Name: "Replicas"}).Fill(itoa(replicas)))
	w.click("Next: Review")
	w.heading("Review")
}

var tenantPath = regexp.MustCompile(`/tenants/([a-z2-7]+)$`)

// deploy presses Deploy on the Review and returns the new tenant's id
// from the deployment page it lands on.
func (w wizard) deploy() string {
	w.t.Helper()
	w.click("Deploy")
	w.do("land on the deployment page", w.page.WaitForURL(tenantPath))
	return tenantPath.FindStringSubmatch(strings.TrimRight(w.page.URL(), "/"))[1]
}
