package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestHelp: every command answers --help without failing, and each flag of
// a subcommand comes with words that explain it.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"--help"}, nil},
		{[]string{"help"}, nil},
		{[]string{"admin", "--help"}, nil},
		{[]string{"token", "-h"}, nil},
		{[]string{"serve", "--help"}, []string{"addr", "data-dir", "domain", "catalog", "tls", "shutdown-grace", "subnet-pool", "wall-off-host", "log-level"}},
		{[]string{"admin", "create", "--help"}, []string{"email", "password", "name", "data-dir"}},
		{[]string{"token", "create", "--help"}, []string{"email", "name", "data-dir"}},
		{[]string{"db", "backup", "--help"}, []string{"data-dir"}},
		{[]string{"login", "--help"}, []string{"url", "token"}},
		{[]string{"tenants", "restore", "--help"}, []string{"latest", "o"}},
		{[]string{"tenants", "logs", "--help"}, []string{"service", "tail"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("run: %v", err)
			}
			out := stdout.String() + stderr.String()
			if !strings.Contains(out, "usage") && !strings.Contains(out, "Usage") {
				t.Errorf("no usage in %q", out)
			}
			for _, f := range tc.flags {
				i := strings.Index(out, "  -"+f+" ")
				if i < 0 {
					i = strings.Index(out, "  -"+f+"\n")
				}
				if i < 0 {
					t.Errorf("flag --%s missing from the help", f)
					continue
				}
				// PrintDefaults puts the explanation on the next line.
				rest := out[i+3:]
				lines := strings.SplitN(rest, "\n", 3)
				if len(lines) < 2 || len(strings.Fields(lines[1])) < 3 {
					t.Errorf("flag --%s has no explanation: %q", f, lines)
				}
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"admin", "delete"}, &stdout, &stderr); err == nil {
		t.Error("an unknown admin subcommand did not fail")
	}
}

// The API commands exit 2 when used wrongly and 1 when the server says no
// (or is not logged in to).
func TestExitCodes(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("APPFACTORY_URL", "")
	t.Setenv("APPFACTORY_TOKEN", "")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"tenants"}, 2},
		{[]string{"tenants", "fly", "x"}, 2},
		{[]string{"tenants", "show"}, 2},
		{[]string{"login", "--url", "ftp://x", "--token", "t"}, 2},
		{[]string{"tenants", "ls"}, 1},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || exitCode(err) != tc.code {
			t.Errorf("%v: %v, exit %d, want %d", tc.args, err, exitCode(err), tc.code)
		}
	}
}
