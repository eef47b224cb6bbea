package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"appfactory/catalog"
	"appfactory/cli"
	"appfactory/domain"
	"appfactory/handlers"
	"appfactory/handlers/handlerstest"
	"appfactory/store"
)

// settler stands in for the reconciler: it writes the state a start or
// stop ends in.
type settler struct{ db *store.DB }

func (s settler) set(ctx context.Context, id, desired, state string) error {
	if err := s.db.SetDesiredState(ctx, id, desired); err != nil {
		return err
	}
	return s.db.SetTenantState(ctx, id, state, "")
}
func (s settler) Activate(ctx context.Context, id string) error {
	return s.set(ctx, id, domain.DesiredRunning, domain.StateRunning)
}
func (s settler) Pause(ctx context.Context, id string) error {
	return s.set(ctx, id, domain.DesiredRunning, domain.StatePaused)
}
func (s settler) Passivate(ctx context.Context, id, _ string) error {
	return s.set(ctx, id, domain.DesiredPassivated, domain.StatePassivated)
}

// trials extends no trial.
type trials struct{}

func (trials) Extend(context.Context, string, int) (time.Time, error) {
	return time.Time{}, errors.New("no trials here")
}

// portal is a real portal (handlers over a SQLite file) with its sleep
// controls, an admin token and one running tenant of an app.
type portal struct {
	*handlerstest.Env
	token, tenant, app string
}

func newPortal(t *testing.T) *portal {
	t.Helper()
	env := handlerstest.NewServer(t)
	cat, err := catalog.Load("")
	if err != nil {
		t.Fatal(err)
	}
	p := &handlers.Power{H: env.Handlers, Tenants: settler{env.DB}, Trials: trials{}, Catalog: cat, Background: context.Background()}
	p.Register(env.Web.Echo())
	admin := env.CreateUser(t, "ops@example.com", store.RoleAdmin)
	ctx := context.Background()
	id := store.NewID()
	if err := env.DB.CreateApp(ctx, &store.App{ID: id, OwnerID: admin.ID, Name: "Ops App", Status: store.AppReady, Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{ID: id, AppID: id, OwnerID: admin.ID, CreatedBy: admin.ID, Slug: "ops-" + id[:6],
		Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1,
		DesiredState: domain.DesiredRunning, State: domain.StateRunning}
	if err := env.DB.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	return &portal{Env: env, token: env.Token(t, admin.ID), tenant: id, app: id}
}

// syncBuffer collects a command's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// configHome gives the test a configuration directory of its own.
func configHome(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("APPFACTORY_URL", "")
	t.Setenv("APPFACTORY_TOKEN", "")
	return dir
}

// run runs the command line and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut syncBuffer
	err := cli.Run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("appfactory %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func isUsage(err error) bool {
	var u *cli.UsageError
	return errors.As(err, &u)
}

func TestLogin(t *testing.T) {
	p := newPortal(t)
	home := configHome(t)
	if _, err := run(t, "tenants", "ls"); err == nil || !strings.Contains(err.Error(), "run appfactory login --url URL --token TOKEN") || isUsage(err) {
		t.Fatalf("before login: %v", err)
	}
	if _, err := run(t, "login", "--url", p.URL); !isUsage(err) {
		t.Errorf("login without a token: %v, want a usage error", err)
	}
	if _, err := run(t, "login", "--url", p.URL, "--token", "wrong"); err == nil || isUsage(err) || !strings.Contains(err.Error(), "refused the token") {
		t.Errorf("login with a bad token: %v", err)
	}
	path := filepath.Join(home, "appfactory", "config.json")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a refused login saved a configuration")
	}
	if out := mustRun(t, "login", "--url", p.URL+"/", "--token", p.token); !strings.Contains(out, "ops@example.com (admin)") {
		t.Errorf("login said %q", out)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", st, err)
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode %v", dst.Mode().Perm())
	}
	var cfg cli.Config
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.URL != p.URL || cfg.Token != p.token {
		t.Errorf("config %s (%v)", b, err)
	}
}

func TestTenantsAndAppsAgainstThePortal(t *testing.T) {
	p := newPortal(t)
	configHome(t)
	mustRun(t, "login", "--url", p.URL, "--token", p.token)

	out := mustRun(t, "tenants", "ls")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], p.tenant) || !strings.Contains(lines[1], "running") {
		t.Errorf("tenants ls:\n%s", out)
	}
	var list struct {
		Tenants []struct {
			ID      string   `json:"id"`
			Actions []string `json:"actions"`
		} `json:"tenants"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "tenants", "ls", "-o", "json")), &list); err != nil || len(list.Tenants) != 1 || list.Tenants[0].ID != p.tenant {
		t.Fatalf("tenants ls -o json: %+v %v", list, err)
	}
	if out := mustRun(t, "tenants", "show", p.tenant); !strings.Contains(out, "state:") || !strings.Contains(out, "passivate") {
		t.Errorf("tenants show:\n%s", out)
	}
	if out := mustRun(t, "tenants", "passivate", p.tenant); !strings.Contains(out, "passivated") {
		t.Errorf("tenants passivate:\n%s", out)
	}
	// Passivating again is not allowed: the API's reason, exit 1 (not usage).
	if _, err := run(t, "tenants", "passivate", p.tenant); err == nil || isUsage(err) || !strings.Contains(err.Error(), "already stopped") {
		t.Errorf("passivate twice: %v", err)
	}
	if out := mustRun(t, "tenants", "activate", p.tenant, "-o", "json"); !strings.Contains(out, `"state": "running"`) {
		t.Errorf("tenants activate -o json:\n%s", out)
	}
	if out := mustRun(t, "tenants", "events", p.tenant); !strings.Contains(out, "Desired state set to passivated") {
		t.Errorf("tenants events:\n%s", out)
	}
	if _, err := run(t, "tenants", "show"); !isUsage(err) {
		t.Errorf("show without an ID: %v", err)
	}
	if _, err := run(t, "tenants", "show", "nope"); err == nil || isUsage(err) || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("show of an unknown tenant: %v", err)
	}
	if _, err := run(t, "tenants", "ls", "-o", "yaml"); !isUsage(err) {
		t.Errorf("-o yaml: %v", err)
	}
	if out := mustRun(t, "apps", "ls"); !strings.Contains(out, "Ops App") {
		t.Errorf("apps ls:\n%s", out)
	}
	if out := mustRun(t, "apps", "show", p.app); !strings.Contains(out, "Ops App") || !strings.Contains(out, "contentapp") {
		t.Errorf("apps show:\n%s", out)
	}
}

// events -f prints the tenant's new events as the server records them.
func TestTenantEventsFollow(t *testing.T) {
	p := newPortal(t)
	configHome(t)
	mustRun(t, "login", "--url", p.URL, "--token", p.token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"tenants", "events", "-f", p.tenant}, pw, io.Discard)
		pw.Close()
	}()
	seen := make(chan struct{})
	go func() { // the stream starts with the events after it opened: mark until one shows
		for {
			select {
			case <-seen:
				return
			case <-time.After(20 * time.Millisecond):
				p.DB.AddEvent(context.Background(), p.tenant, domain.EventObject, "the marker")
			}
		}
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "object\tthe marker") {
			break
		}
	}
	close(seen)
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Errorf("events -f after Ctrl-C: %v", err)
	}
}
