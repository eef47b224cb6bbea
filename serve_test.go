package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"./data", "./data"},
		{"/var/lib/appfactory", "/var/lib/appfactory"},
		{"bin/appfactory", "bin/appfactory"},
		{"my data", "'my data'"},
		{"it's", `'it'\''s'`},
		{"$HOME/data", "'$HOME/data'"},
	} {
		t.Run(c.in, func(t *testing.T) {
			if got := shellQuote(c.in); got != c.want {
				t.Errorf("shellQuote(%q) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

// TestStartBanner runs the printed command through a shell, as a person
// pasting it would, and checks the arguments that arrive; once an admin
// exists only the address is printed.
func TestStartBanner(t *testing.T) {
	var b bytes.Buffer
	startBanner(&b, "http://localhost:8080/", "./data", 1)
	if got := b.String(); got != "\nappfactory is up at http://localhost:8080/\n\n" {
		t.Errorf("with an admin: %q", got)
	}
	b.Reset()
	dir := filepath.Join(t.TempDir(), "odd data's dir")
	startBanner(&b, "http://localhost:8080/", dir, 0)
	out := b.String()
	if !strings.Contains(out, "appfactory is up at http://localhost:8080/") {
		t.Errorf("no portal address in %q", out)
	}
	var cmdline string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " admin create ") {
			cmdline = strings.TrimSpace(l)
		}
	}
	if cmdline == "" {
		t.Fatalf("no admin create command in %q", out)
	}
	// Swap the program for printf to see the words the shell hands over.
	words := strings.SplitN(cmdline, " admin ", 2)
	sh := exec.Command("sh", "-c", `printf '%s\n' admin `+words[1])
	got, err := sh.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"admin", "create", "--data-dir", dir, "--email", "you@example.com", "--password", "<a long password>"}, "\n") + "\n"
	if string(got) != want {
		t.Errorf("the shell hands over\n%s\nwant\n%s", got, want)
	}
	if words[0] != shellQuote(os.Args[0]) {
		t.Errorf("program %q, want %q", words[0], os.Args[0])
	}
}
