package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	playwright "github.com/mxschmitt/playwright-go"
)

// budgetJSON is what GET /api/v1/admin/budget says.
type budgetJSON struct {
	Enabled bool  `json:"enabled"`
	Bytes   int64 `json:"budget_bytes"`
	Used    int64 `json:"used_bytes"`
	Members []struct {
		Slug  string `json:"slug"`
		State string `json:"state"`
		Bytes int64  `json:"memory_bytes"`
	} `json:"members"`
	Queue []struct {
		Slug string `json:"slug"`
	} `json:"queue"`
}

func (a apiClient) budget(t *testing.T) budgetJSON {
	t.Helper()
	var b budgetJSON
	if code := a.call(t, http.MethodGet, "/api/v1/admin/budget", nil, &b); code != 200 {
		t.Fatalf("GET /api/v1/admin/budget: %d", code)
	}
	return b
}

// TestMemoryBudgetQueuePage: under a budget that two production tenants
// fill (they never sleep, so nothing can be evicted), a browser waking a
// sleeping trial gets the starting page saying it waits for memory, with
// its place; the admin dashboard shows the budget and the queue; once a
// production tenant is stopped the trial starts and the page opens it.
func TestMemoryBudgetQueuePage(t *testing.T) {
	s := startServer(t, "--memory-budget", "4200MiB", "--pause-after", "0")
	const email = "budget-admin@example.com"
	admin := adminAPI(t, s, email, passphrase)

	trial := deployApp(t, admin, "Waiter", "trial")
	admin.waitTenantState(t, trial.ID, "running", 2*time.Minute)
	if code := admin.call(t, http.MethodPost, "/api/v1/tenants/"+trial.ID+"/passivate", nil, nil); code != 200 {
		t.Fatalf("passivate the trial: %d", code)
	}
	admin.waitTenantState(t, trial.ID, "passivated", time.Minute)
	prod1 := deployApp(t, admin, "Prod One", "production")
	prod2 := deployApp(t, admin, "Prod Two", "production")
	admin.waitTenantState(t, prod1.ID, "running", 2*time.Minute)
	admin.waitTenantState(t, prod2.ID, "running", 2*time.Minute)
	if b := admin.budget(t); !b.Enabled || b.Bytes != 4200<<20 || b.Used != 4<<30 || len(b.Members) != 2 {
		t.Fatalf("budget with two production tenants: %+v", b)
	}

	page := newPage(t)
	errs := consoleErrors(page, regexp.MustCompile(`status of 503|/favicon\.ico\)$`))
	if _, err := page.Goto(s.TenantURL(trial.Slug)); err != nil {
		t.Fatal(err)
	}
	expectVisible(t, page.GetByText("Waiting for memory: place 1 of 1"), "the queue place on the starting page")
	screenshot(t, page, "budget-queue-page")
	if b := admin.budget(t); len(b.Queue) != 1 || b.Queue[0].Slug != trial.Slug || b.Used > b.Bytes {
		t.Fatalf("budget while the trial waits: %+v", b)
	}

	// The admin sees the budget, its members and the queue.
	dash := newPage(t)
	signIn(t, dash, s, email, passphrase)
	goTo(t, dash, s.URL+"/admin")
	card := dash.Locator("#memory-budget")
	expectVisible(t, card.GetByText("in use of a budget of 4.1 GiB"), "the budget's use")
	expectVisible(t, card.Locator("table[aria-label='Tenants in the memory budget'] tr").Filter(playwright.LocatorFilterOptions{HasText: prod1.Slug}), "a member")
	expectVisible(t, card.Locator("table[aria-label='Starts waiting for memory'] tr").Filter(playwright.LocatorFilterOptions{HasText: trial.Slug}), "the waiting trial")
	expectVisible(t, card.Locator("svg.chart"), "the members' chart")
	screenshot(t, dash, "admin-budget")

	// A production tenant stopped: the trial is let in, and the waiting
	// page opens the app by itself.
	if code := admin.call(t, http.MethodPost, "/api/v1/tenants/"+prod2.ID+"/passivate", nil, nil); code != 200 {
		t.Fatalf("passivate a production tenant: %d", code)
	}
	expectVisible(t, page.GetByText(trial.Title).First(), "the app after the wait")
	if !strings.HasPrefix(page.URL(), s.TenantURL(trial.Slug)) {
		t.Errorf("the page moved to %s", page.URL())
	}
	if b := admin.budget(t); len(b.Queue) != 0 || b.Used != 1<<30*2+512<<20 {
		t.Errorf("budget after the wait: %+v", b)
	}
	noConsoleErrors(t, errs)
}
