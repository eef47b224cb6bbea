package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is an `appfactory serve` process.
type Server struct {
	URL     string // http://localhost:PORT
	Port    int
	DataDir string
	Log     string
	// Instance labels every Docker object the server creates
	// (appfactory.instance=<Instance>).
	Instance string

	cmd  *exec.Cmd
	logf *os.File
	done chan struct{}
}

// TenantURL is the address of a tenant by slug.
func (s *Server) TenantURL(slug string) string {
	return fmt.Sprintf("http://%s.localhost:%d/", slug, s.Port)
}

// tenantGet fetches a path of a tenant through the server's router, the
// Host header naming the tenant (as a browser sends it for
// <slug>.localhost).
func (s *Server) tenantGet(t *testing.T, slug, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", s.Port, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = fmt.Sprintf("%s.localhost:%d", slug, s.Port)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", req.Host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var instanceAttr = regexp.MustCompile(`msg="docker engine".* instance=([a-z0-9]+)`)

// launch runs appfactory on a free port over the data directory and waits
// until it answers.
func launch(data string, extra ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://localhost:%d", port), Port: port, DataDir: data, Log: filepath.Join(data, "serve.log"), done: make(chan struct{})}
	if s.logf, err = os.Create(s.Log); err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", data, "--domain", "localhost"}, extra...)
	s.cmd = exec.Command(filepath.Join(root, "bin", "appfactory"), args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logf, s.logf
	if err := s.cmd.Start(); err != nil {
		s.logf.Close()
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := waitHealthy(s, s.done); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w:\n%s", err, tail(s.logText(), 20))
	}
	m := instanceAttr.FindStringSubmatch(s.logText())
	if m == nil {
		s.stop()
		return nil, fmt.Errorf("no instance id in the server log %s", s.Log)
	}
	s.Instance = m[1]
	return s, nil
}

// stop interrupts the server (a graceful shutdown) and waits for it.
func (s *Server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.logf.Close()
}

func (s *Server) logText() string {
	b, _ := os.ReadFile(s.Log)
	return string(b)
}

// startServer runs appfactory for one test with a fresh data directory.
// When the test ends it stops the server, removes the Docker objects of its
// instance and fails the test if any remains.
func startServer(t *testing.T, extra ...string) *Server {
	t.Helper()
	s, err := launch(t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop()
		removeInstanceObjects(t.Logf, s.Instance)
		if left := labelledObjects("appfactory.instance=" + s.Instance); left != "" {
			t.Errorf("Docker objects of instance %s left behind: %s", s.Instance, left)
		}
		if t.Failed() {
			t.Logf("server log %s (last lines):\n%s", s.Log, tail(s.logText(), 40))
		}
	})
	return s
}

// sharedServer is one server for the journeys that deploy nothing, so that
// they do not each pay for a start; each uses accounts of its own.
type sharedServer struct {
	once sync.Once
	s    *Server
	err  error
	dir  string
}

// get starts the shared server on first use.
func (p *sharedServer) get(t *testing.T) *Server {
	t.Helper()
	p.once.Do(func() {
		if p.dir, p.err = os.MkdirTemp("", "appfactory-e2e-"); p.err == nil {
			p.s, p.err = launch(p.dir)
		}
	})
	if p.err != nil {
		t.Fatal(p.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shared server log %s (last lines):\n%s", p.s.Log, tail(p.s.logText(), 40))
		}
	})
	return p.s
}

// stop ends the shared server, if one was started, and removes its
// instance's Docker objects; it reports any that remain.
func (p *sharedServer) stop() error {
	defer func() {
		if p.dir != "" {
			os.RemoveAll(p.dir)
		}
	}()
	if p.s == nil {
		return nil
	}
	p.s.stop()
	removeInstanceObjects(func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }, p.s.Instance)
	if left := labelledObjects("appfactory.instance=" + p.s.Instance); left != "" {
		return fmt.Errorf("Docker objects of the shared server's instance %s left behind: %s", p.s.Instance, left)
	}
	return nil
}

// runCLI runs an appfactory subcommand against a server's data directory.
func runCLI(t *testing.T, s *Server, args ...string) string {
	t.Helper()
	args = append(args, "--data-dir", s.DataDir)
	out, err := exec.Command(filepath.Join(root, "bin", "appfactory"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("appfactory %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// removeInstanceObjects removes every Docker object labelled for the
// instance, whatever the server left (a passivated tenant keeps its stopped
// containers, network and volume).
func removeInstanceObjects(logf func(format string, args ...any), instance string) {
	for _, kind := range []string{"container", "network", "volume"} {
		ids := dockerIDs(kind, "appfactory.instance="+instance)
		if len(ids) == 0 {
			continue
		}
		args := append([]string{kind, "rm", "-f"}, ids...)
		if kind == "network" {
			args = append([]string{kind, "rm"}, ids...)
		}
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			logf("cleanup: docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The tenant images this instance built; one still used elsewhere is
	// refused by the engine and stays.
	if ids := dockerIDs("image", "appfactory.instance="+instance); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"image", "rm"}, ids...)...).Run()
	}
}

// labelledObjects lists the containers, networks and volumes carrying the
// label ("" when none).
func labelledObjects(label string) string {
	var left []string
	for _, kind := range []string{"container", "network", "volume"} {
		if ids := dockerIDs(kind, label); len(ids) > 0 {
			left = append(left, fmt.Sprintf("%d %s(s) %v", len(ids), kind, ids))
		}
	}
	return strings.Join(left, ", ")
}

// waitNoObjects waits until no container, network or volume carries the
// label, and fails the test if some still do after within.
func waitNoObjects(t *testing.T, label string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := labelledObjects(label)
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("Docker objects labelled %s still there after %s: %s", label, within, left)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dockerIDs lists the objects of a kind (container, network, volume) that
// carry the label, through the docker command (image too).
func dockerIDs(kind, label string) []string {
	args := []string{kind, "ls", "-q", "--filter", "label=" + label}
	switch kind {
	case "container":
		args = []string{"ps", "-aq", "--filter", "label=" + label}
	case "image":
		args = []string{"images", "-q", "--filter", "label=" + label}
	}
	out, _ := exec.Command("docker", args...).Output()
	return strings.Fields(string(out))
}
