// Command contentapp is appfactory's sample platform: a small document
// repository with a store role (SQLite on the data volume, JSON API) and a
// stateless web role (HTML pages over the store API). One static binary
// serves every role, so one FROM scratch image holds the whole platform.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=1.0".
var version = "dev"

const usage = `usage: contentapp store | web | health [URL] | version

  store    serve the document store API on $CONTENTAPP_LISTEN (default :8081),
           data in $CONTENTAPP_DATA (default /data)
  web      serve the HTML pages on $CONTENTAPP_LISTEN (default :8080), using the
           store at $CONTENTAPP_STORE_URL (default http://store:8081)
  health   GET URL (default: this container's own /healthz) within 1 s;
           exit 0 on a 2xx answer
  version  print the platform version
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run dispatches on the role and returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("CONTENTAPP_LOG_LEVEL"))}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var err error
	switch args[0] {
	case "store":
		err = runStore(ctx, getenv, log)
	case "web":
		err = runWeb(ctx, getenv, log)
	case "health":
		return health(args[1:], getenv, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "contentapp %s\n", version)
		return 0
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		log.Error("contentapp failed", slog.String("role", args[0]), slog.Any("err", err))
		return 1
	}
	return 0
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return slog.LevelInfo
	}
	return l
}

// env returns getenv(key), or def when it is unset or empty.
func env(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
