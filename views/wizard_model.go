package views

import (
	"fmt"

	"github.com/a-h/templ"
)

// Wizard step numbers.
const (
	StepPlatform = iota + 1
	StepComponents
	StepCustom
	StepModel
	StepEnvironment
	StepReview
	// StepCount is the number of steps.
	StepCount = StepReview
)

// StepTitle is the name of a wizard step in the progress bar.
func StepTitle(n int) string {
	switch n {
	case StepPlatform:
		return "Platform"
	case StepComponents:
		return "Components"
	case StepCustom:
		return "Custom components"
	case StepModel:
		return "Application model"
	case StepEnvironment:
		return "Environment"
	case StepReview:
		return "Review"
	}
	return ""
}

// Messages maps a field (its path in the app, like "model.doctypes[0].name")
// to the message shown beside it.
type Messages = map[string]string

// invalid marks an input whose field has a message: aria-invalid and the
// message's id.
func invalid(msgs Messages, field string) templ.Attributes {
	if msgs[field] != "" {
		return templ.Attributes{"aria-invalid": "true", "aria-describedby": errID(field)}
	}
	return templ.Attributes{}
}

// errID is the id of a field's error message, for aria-describedby.
func errID(field string) string { return "err-" + sanitizeID(field) }

func sanitizeID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// Wizard is what every step's page shares.
type Wizard struct {
	Page Page
	// AppID is empty on the first step of a new app (nothing saved yet).
	AppID   string
	AppName string
	Step    int
	// Reached is the furthest step the progress bar links to.
	Reached int
	Errors  Messages
	// FormError is a message about the step as a whole.
	FormError string
	Notice    string
}

// Action is where the step's form posts.
func (w Wizard) Action() string {
	if w.AppID == "" {
		return "/apps/new"
	}
	return StepURL(w.AppID, w.Step)
}

// StepURL is the address of a step of an app's wizard.
func StepURL(appID string, step int) string {
	return fmt.Sprintf("/apps/%s/wizard/%d", appID, step)
}

// PlatformOption is a platform offered on the first step.
type PlatformOption struct {
	ID, Name, Description string
}

// VersionOption is a version offered on the first step.
type VersionOption struct {
	Version, Label, Notes string
	LTS, Deprecated       bool
}

// VersionList is the versions of the chosen platform: the partial swapped
// when the platform changes.
type VersionList struct {
	Platform string
	Versions []VersionOption
	Selected string
	Error    string
}

// PlatformStep is step 1: name, platform and version.
type PlatformStep struct {
	W         Wizard
	Name      string
	Platforms []PlatformOption
	Platform  string
	Versions  VersionList
	// VersionsURL answers the versions of a platform (htmx).
	VersionsURL string
	// Resume offers the newest draft when a new app is started.
	Resume *AppRow
}

// ComponentItem is one catalog component on step 2.
type ComponentItem struct {
	ID, Name, Description string
	Checked               bool
	// Locked components are selected because a selected one requires them.
	Locked bool
	// Disabled components conflict with a selection or miss the version.
	Disabled bool
	// Note explains Locked or Disabled.
	Note      string
	Requires  string
	Conflicts string
}

// ComponentList is step 2's list: the partial re-rendered on every click.
type ComponentList struct {
	AppID string
	Items []ComponentItem
	Error string
}

// ComponentsStep is step 2.
type ComponentsStep struct {
	W     Wizard
	List  ComponentList
	Scope string // "Content App 2.0": what the list is for
}

// CustomItem is one uploaded component on step 3.
type CustomItem struct {
	ID, Name, Version, Description, Size, SHA256 string
	Files                                        int
	Checked                                      bool
}

// CustomStep is step 3: upload and pick custom components.
type CustomStep struct {
	W            Wizard
	Items        []CustomItem
	UploadNotice string
	MaxSize      string
}

// FieldForm is a field of a document type in the model editor.
type FieldForm struct {
	Name, Type, Choices string
}

// DoctypeForm is a document type in the model editor.
type DoctypeForm struct {
	Name   string
	Fields []FieldForm
	// CanAddField is false at the schema's field limit.
	CanAddField bool
}

// ModelForm is the application-model editor: the partial swapped when a
// document type or field is added or removed.
type ModelForm struct {
	Action     string
	Title      string
	Color      string
	Doctypes   []DoctypeForm
	FieldTypes []string
	Errors     Messages
	// CanAddDoctype is false at the schema's document type limit.
	CanAddDoctype bool
}

// ModelStep is step 4.
type ModelStep struct {
	W     Wizard
	Model ModelForm
}

// EnvItem is an environment offered on step 5.
type EnvItem struct {
	ID, Name, Description    string
	TTL, IdleTimeout, Memory string
	CPUs                     string
	MaxReplicas, MaxTenants  int
	Checked                  bool
}

// ReplicasField is the replicas input, re-rendered when the environment changes.
type ReplicasField struct {
	Value string
	Max   int
	Env   string
	Error string
}

// EnvironmentStep is step 5.
type EnvironmentStep struct {
	W        Wizard
	Envs     []EnvItem
	Replicas ReplicasField
}

// Problem is something that keeps an app from being deployed, with the
// step that fixes it.
type Problem struct {
	Step    int
	Message string
}

// ReviewStep is step 6.
type ReviewStep struct {
	W            Wizard
	App          AppSummary
	Dockerfile   string
	Compose      string
	PreviewError string
	Problems     []Problem
	// BackURL is the previous step, or the app's page for a finished app.
	BackURL string
	// Requested is set when Deploy was recorded without a factory.
	Requested string
}
