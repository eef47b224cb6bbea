package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlagSet returns a flag set whose flags fall back to APPFACTORY_*
// environment variables; call applyEnv after defining the flags and before
// Parse.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of appfactory %s (each flag also reads APPFACTORY_<FLAG>, e.g. --data-dir is APPFACTORY_DATA_DIR):\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment variable of a flag: data-dir -> APPFACTORY_DATA_DIR.
func envName(flagName string) string {
	return "APPFACTORY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseWithEnv sets each flag from its environment variable, then parses
// args, so that flags win over the environment.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), e)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}
