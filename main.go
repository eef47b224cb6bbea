// Command appfactory is a self-service application factory: a portal where
// prospects assemble applications that are built into images, deployed as
// isolated per-tenant stacks, routed by host, passivated when idle and
// activated on the next request.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"appfactory/cli"
)

const usage = `appfactory: a self-service application factory.

Usage:
  appfactory serve [flags]                              run the portal, router and orchestrator
  appfactory admin create --email E --password P [--name N]   create or promote an admin
  appfactory token create --email E [--name N]          print a new API token for a user
  appfactory db backup FILE                             copy the portal's database, safely while it serves
` + cli.Usage + `
The login, tenants and apps commands talk to a portal over its API (after
appfactory login); they exit 0 on success, 1 on an API or server error and 2
on a usage error.

Run "appfactory <command> --help" for the flags of a command. Every flag can
also be set with an APPFACTORY_* environment variable (--data-dir is
APPFACTORY_DATA_DIR).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// --help printed the flags, as asked: not a failure.
			return
		}
		fmt.Fprintln(os.Stderr, "appfactory:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a command used wrongly, 1 for any other failure.
func exitCode(err error) int {
	var usage *cli.UsageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stderr)
	case "admin":
		const u = "usage: appfactory admin create --email E --password P [--name N]\n(\"appfactory admin create --help\" lists the flags)"
		if len(args) >= 2 && isHelp(args[1]) {
			fmt.Fprintln(stdout, u)
			return nil
		}
		if len(args) < 2 || args[1] != "create" {
			return errors.New(u)
		}
		return cmdAdminCreate(ctx, args[2:], stdout, stderr)
	case "token":
		const u = "usage: appfactory token create --email E [--name N]\n(\"appfactory token create --help\" lists the flags)"
		if len(args) >= 2 && isHelp(args[1]) {
			fmt.Fprintln(stdout, u)
			return nil
		}
		if len(args) < 2 || args[1] != "create" {
			return errors.New(u)
		}
		return cmdTokenCreate(ctx, args[2:], stdout, stderr)
	case "login", "tenants", "apps":
		return cli.Run(ctx, args, stdout, stderr)
	case "db":
		return cmdDB(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// isHelp reports whether a command-line word asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
