package e2e

import (
	"regexp"
	"testing"

	playwright "github.com/mxschmitt/playwright-go"
)

// TestWizardJourney signs up, then walks the whole wizard in Chromium: a
// refused first step corrected, components that follow the clicks, an
// upload, a model built with the form-builder, a refused replicas count
// corrected, Back that keeps what was typed, and the review with Deploy.
func TestWizardJourney(t *testing.T) {
	s := portal.get(t)
	page := newPage(t)
	// A refused form answers 422 on purpose; anything else is a fault.
	errs := consoleErrors(page, regexp.MustCompile(`status of 422`))
	w := wizard{t, page}
	signUp(t, page, s, person{Name: "Wanda Wizard", Email: "wanda@example.com", Company: "Wizards"})

	// Step 1: a missing name is refused, and the choice of version stays.
	w.start("", "contentapp", "2.0")
	if n, err := w.input(`input[name=version][value="0.9"]`).Count(); err != nil || n != 0 {
		t.Errorf("a deprecated version is offered for a new app (%v)", err)
	}
	w.click("Next: Components")
	expectVisible(t, page.GetByText("Give the application a name."), "name error")
	if ok, _ := w.input(`input[name=version][value="2.0"]`).IsChecked(); !ok {
		t.Error("the chosen version was lost by the refused step")
	}
	w.do("app name", page.GetByLabel("App name").Fill("Contract Desk"))
	w.click("Next: Components")

	// Step 2: choosing Workflow brings in Versioning, locked; Export
	// disables the Audit trail.
	w.heading("Components")
	w.check("components", "workflow")
	expectVisible(t, page.GetByText("Selected because Workflow needs it."), "requirement note")
	if ok, _ := w.input(`input[type=checkbox][name=components][value=versioning]`).IsChecked(); !ok {
		t.Error("versioning was not selected with workflow")
	}
	w.check("components", "export")
	expectVisible(t, page.GetByText("Unavailable: it conflicts with Export."), "conflict note")
	if dis, _ := w.input(`input[type=checkbox][name=components][value=audit]`).IsDisabled(); !dis {
		t.Error("audit stays enabled beside export")
	}
	w.click("Next: Custom components")

	// Step 3: upload a component made here; it is selected.
	w.heading("Custom components")
	w.upload(componentArchive(t, "acme-theme", "1.0.0", "ACME's colours."), "acme-theme 1.0.0")
	if ok, _ := w.input(`input[name=custom_components]`).First().IsChecked(); !ok {
		t.Error("the uploaded component is not selected")
	}
	w.toModel()

	// Step 4: the form-builder; Enter moves on, it does not press an
	// editor button.
	w.heading("Application model")
	w.fillModel("Contracts", "", doctypeSpec{Name: "Contract", Fields: []fieldSpec{
		{Name: "amount", Type: "number"}, {Name: "status", Type: "choice", Choices: "open, signed"}}})
	w.do("enter", w.input(`input[name="doctypes[0].fields[1].choices"]`).Press("Enter"))

	// Step 5: too many replicas for a trial, corrected.
	w.heading("Environment")
	w.check("environment", "trial")
	w.do("replicas", page.GetByRole("spinbutton", playwright.PageGetByRoleOptions{Name: "Replicas"}).Fill("3"))
	w.click("Next: Review")
	expectVisible(t, page.GetByText("Trial allows at most 1 replica."), "replicas error")
	// Back and forth keeps the model.
	w.click("Back")
	w.heading("Application model")
	if v, _ := w.input(`input[name="doctypes[0].fields[1].choices"]`).InputValue(); v != "open, signed" {
		t.Errorf("choices after Back: %q", v)
	}
	w.click("Next: Environment")
	w.check("environment", "demo")
	expectVisible(t, page.GetByText("web containers: 1 to 2 in Demo"), "replicas bound of demo")
	w.environment("demo", 2)

	// Step 6: the review.
	for _, text := range []string{"FROM appfactory/contentapp:2.0", "CONTENTAPP_FEATURE_WORKFLOW", "acme-theme", "replicas: 2"} {
		expectVisible(t, page.GetByText(text).First(), text)
	}
	deploy := button(page, "Deploy")
	expectVisible(t, deploy, "Deploy button")
	if dis, _ := deploy.IsDisabled(); dis {
		t.Error("Deploy is disabled on a complete app")
	}
	if !regexp.MustCompile(`/apps/[a-z2-7]{16}/wizard/6$`).MatchString(page.URL()) {
		t.Errorf("review at %s", page.URL())
	}
	noConsoleErrors(t, errs)
}
