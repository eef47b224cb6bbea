package views

import (
	"strings"
	"testing"
)

func TestTenantActionsNameNoDirectionForAVersionChange(t *testing.T) {
	html := render(t, TenantActions(TenantView{ID: "t1", Versions: []UpgradeOption{{Version: "1.0", Label: "ContentApp 1.0 LTS"}}}))
	for _, want := range []string{">Change version</button>", "ContentApp 1.0 LTS", "Move this deployment to the chosen version?"} {
		if !strings.Contains(html, want) {
			t.Errorf("want %q in\n%s", want, html)
		}
	}
	if strings.Contains(html, ">Upgrade<") {
		t.Error("a move to an older version is called an upgrade")
	}
}

func TestTenantActionBarEndsWithDelete(t *testing.T) {
	v := TenantView{ID: "t1", State: "running", CanAct: true, CanRestart: true, Versions: []UpgradeOption{{Version: "1.0", Label: "1.0"}},
		Power: TenantPowerView{ID: "t1", State: "running", CanControl: true}}
	html := render(t, TenantShow(TenantPage{Page: Page{Title: "t"}, Tenant: v}))
	bar := html[strings.Index(html, `class="action-bar"`):]
	last := -1
	for _, b := range []string{">Passivate now<", ">Restart<", ">Change version<", ">Delete<"} {
		i := strings.Index(bar, b)
		if i < last {
			t.Errorf("%s is out of order in the action bar", b)
		}
		last = i
	}
	if end := strings.Index(bar, "tenant-progress"); end < last {
		t.Error("the buttons are not all in the action bar")
	}
}
