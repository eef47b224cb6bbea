package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"appfactory/cli/apiclient"
)

func apps(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("usage: appfactory apps ls|show ...")
	}
	sub, rest := args[0], args[1:]
	c := newCmd("apps "+sub, stdout, stderr)
	switch sub {
	case "ls":
		all := c.fs.Bool("all", false, "everyone's apps (sales and admins)")
		return c.run(rest, 0, "[--all] [-o json]", func(api *apiclient.Client) error {
			q := ""
			if *all {
				q = "1"
			}
			return appsList(ctx, c, api, q)
		})
	case "show":
		return c.run(rest, 1, "ID [-o json]", func(api *apiclient.Client) error { return appShow(ctx, c, api) })
	}
	return usagef("unknown command apps %q\nusage: appfactory apps ls|show ...", sub)
}

func appsList(ctx context.Context, c *cmd, api *apiclient.Client, all string) error {
	raw, err := api.Call(ctx, "GET", apiclient.Query("/apps", "all", all), nil)
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	var list struct {
		Apps []apiclient.App `json:"apps"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	rows := make([][]string, len(list.Apps))
	for i, a := range list.Apps {
		rows[i] = []string{a.ID, a.Name, a.Status, a.Platform + " " + a.Version, a.Environment, timeText(a.UpdatedAt)}
	}
	return table(c.out, []string{"ID", "NAME", "STATUS", "PLATFORM", "ENVIRONMENT", "UPDATED"}, rows)
}

func appShow(ctx context.Context, c *cmd, api *apiclient.Client) error {
	raw, err := api.Call(ctx, "GET", "/apps/"+apiclient.PathID(c.args[0]), nil)
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	var a apiclient.App
	if err := json.Unmarshal(raw, &a); err != nil {
		return err
	}
	rows := [][]string{
		{"id:", a.ID}, {"name:", a.Name}, {"status:", a.Status}, {"revision:", fmt.Sprint(a.Revision)},
		{"platform:", a.Platform + " " + a.Version}, {"components:", orDash(strings.Join(a.Components, ", "))},
		{"environment:", a.Environment}, {"replicas:", fmt.Sprint(a.Replicas)}, {"updated:", timeText(a.UpdatedAt)},
	}
	return table(c.out, []string{"APP", ""}, rows)
}
