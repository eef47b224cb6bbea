// Package cli is the appfactory command line over the portal's API:
// login, tenants and apps. It speaks HTTP only (apiclient), never to the
// database.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"appfactory/cli/apiclient"
)

// UsageError is a command used wrongly: the command exits with 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Commands are the words Run takes first.
var Commands = []string{"login", "tenants", "apps"}

// Usage lists the commands.
const Usage = `  appfactory login --url URL --token TOKEN            check a token and store it for the commands below
  appfactory tenants ls|show|deploy|passivate|activate|restart|upgrade|rollback|delete [-o json]
  appfactory tenants logs ID [-f] | events ID [-f] | backup ID | backups ID | restore ID (--latest | BACKUP_ID)
  appfactory apps ls|show [-o json]
`

// Run runs one command (args[0] is login, tenants or apps).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("usage:\n%s", Usage)
	}
	switch args[0] {
	case "login":
		return login(ctx, args[1:], stdout, stderr)
	case "tenants":
		return tenants(ctx, args[1:], stdout, stderr)
	case "apps":
		return apps(ctx, args[1:], stdout, stderr)
	}
	return usagef("unknown command %q\nusage:\n%s", args[0], Usage)
}

// cmd is one subcommand's parsed flags and words.
type cmd struct {
	fs     *flag.FlagSet
	output *string
	args   []string
	out    io.Writer
}

// newCmd defines the flags every subcommand has (-o); define more on c.fs
// before c.parse.
func newCmd(name string, stdout, stderr io.Writer) *cmd {
	fs := flag.NewFlagSet("appfactory "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &cmd{fs: fs, out: stdout}
	c.output = fs.String("o", "table", "output: table or json")
	return c
}

// parse reads flags anywhere among the words (tenants restore ID --latest).
func (c *cmd) parse(args []string) error {
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usagef("%v", err)
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		c.args = append(c.args, args[0])
		args = args[1:]
	}
	if *c.output != "table" && *c.output != "json" {
		return usagef("-o must be table or json, not %q", *c.output)
	}
	return nil
}

// want checks the number of words: an ID and such.
func (c *cmd) want(n int, what string) error {
	if len(c.args) != n {
		return usagef("usage: %s %s", c.fs.Name(), what)
	}
	return nil
}

func (c *cmd) json() bool { return *c.output == "json" }

// printJSON writes an answer indented, as the API gave it.
func (c *cmd) printJSON(raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.out, "%s\n", b)
	return err
}

// client is the API client of the stored login.
func client() (*apiclient.Client, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	return apiclient.New(cfg.URL, cfg.Token), nil
}

func login(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCmd("login", stdout, stderr)
	url := c.fs.String("url", "", "the portal's address, e.g. http://localhost:8080")
	token := c.fs.String("token", "", "an API token (account page, or appfactory token create)")
	if err := c.parse(args); err != nil {
		return err
	}
	if *url == "" || *token == "" || len(c.args) > 0 {
		return usagef("usage: appfactory login --url URL --token TOKEN")
	}
	if !strings.HasPrefix(*url, "http://") && !strings.HasPrefix(*url, "https://") {
		return usagef("--url must start with http:// or https://, not %q", *url)
	}
	api := apiclient.New(*url, *token)
	raw, err := api.Call(ctx, "GET", "/me", nil)
	if err != nil {
		var ae *apiclient.Error
		if errors.As(err, &ae) && ae.Status == 401 {
			return fmt.Errorf("the server refused the token: %s; make a new one on the account page", ae.Message)
		}
		return err
	}
	var me apiclient.Me
	if err := json.Unmarshal(raw, &me); err != nil {
		return fmt.Errorf("%s did not answer as an appfactory portal: %v", *url, err)
	}
	path, err := saveConfig(Config{URL: api.BaseURL, Token: *token})
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	fmt.Fprintf(stdout, "Logged in to %s as %s (%s). Saved in %s.\n", api.BaseURL, me.Email, me.Role, path)
	return nil
}
