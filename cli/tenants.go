package cli

import (
	"context"
	"encoding/json"
	"io"

	"appfactory/cli/apiclient"
)

const tenantsUsage = "usage: appfactory tenants ls|show|deploy|passivate|activate|restart|upgrade|rollback|delete|logs|events|backup|backups|restore ..."

// tenantAction is a change asked of one tenant with a POST (or DELETE).
type tenantAction struct {
	method, path string
}

var tenantActions = map[string]tenantAction{
	"passivate": {"POST", "/passivate"},
	"activate":  {"POST", "/activate"},
	"restart":   {"POST", "/restart"},
	"rollback":  {"POST", "/rollback"},
	"delete":    {"DELETE", ""},
}

func tenants(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", tenantsUsage)
	}
	sub, rest := args[0], args[1:]
	c := newCmd("tenants "+sub, stdout, stderr)
	switch sub {
	case "ls":
		app := c.fs.String("app", "", "only the tenants of this app")
		return c.run(rest, 0, "[--app APP_ID] [-o json]", func(api *apiclient.Client) error { return tenantsList(ctx, c, api, *app) })
	case "show":
		return c.run(rest, 1, "ID [-o json]", func(api *apiclient.Client) error {
			return c.tenantAnswer(api.Call(ctx, "GET", "/tenants/"+apiclient.PathID(c.args[0]), nil))
		})
	case "deploy":
		return c.run(rest, 1, "APP_ID [-o json]", func(api *apiclient.Client) error {
			return c.tenantAnswer(api.Call(ctx, "POST", "/apps/"+apiclient.PathID(c.args[0])+"/deploy", struct{}{}))
		})
	case "upgrade":
		return c.run(rest, 2, "ID VERSION [-o json]", func(api *apiclient.Client) error {
			body := map[string]string{"version": c.args[1]}
			return c.tenantAnswer(api.Call(ctx, "POST", "/tenants/"+apiclient.PathID(c.args[0])+"/upgrade", body))
		})
	case "logs":
		follow := c.fs.Bool("f", false, "follow: print new lines as they come")
		service := c.fs.String("service", "", "one container (web-1) or service (web)")
		tail := c.fs.String("tail", "", "how many lines of each container to start with")
		return c.run(rest, 1, "ID [-f] [--service S] [--tail N]", func(api *apiclient.Client) error {
			return tenantLogs(ctx, c, api, *follow, *service, *tail)
		})
	case "events":
		follow := c.fs.Bool("f", false, "follow: print new events as they come")
		kind := c.fs.String("kind", "", "only events of this kind (state, desired, object, build, error, expiry)")
		return c.run(rest, 1, "ID [-f] [--kind K] [-o json]", func(api *apiclient.Client) error {
			return tenantEvents(ctx, c, api, *follow, *kind)
		})
	case "backup":
		return c.run(rest, 1, "ID [-o json]", func(api *apiclient.Client) error { return tenantBackup(ctx, c, api) })
	case "backups":
		return c.run(rest, 1, "ID [-o json]", func(api *apiclient.Client) error { return tenantBackups(ctx, c, api) })
	case "restore":
		latest := c.fs.Bool("latest", false, "restore the newest backup")
		return c.restore(ctx, rest, latest)
	}
	a, ok := tenantActions[sub]
	if !ok {
		return usagef("unknown command tenants %q\n%s", sub, tenantsUsage)
	}
	return c.run(rest, 1, "ID [-o json]", func(api *apiclient.Client) error {
		var body any
		if a.method == "POST" {
			body = struct{}{}
		}
		return c.tenantAnswer(api.Call(ctx, a.method, "/tenants/"+apiclient.PathID(c.args[0])+a.path, body))
	})
}

// run parses args, checks there are n words, and calls fn with the client
// of the stored login.
func (c *cmd) run(args []string, n int, what string, fn func(api *apiclient.Client) error) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if err := c.want(n, what); err != nil {
		return err
	}
	api, err := client()
	if err != nil {
		return err
	}
	return fn(api)
}

// tenantAnswer prints an answer holding a tenant.
func (c *cmd) tenantAnswer(raw json.RawMessage, err error) error {
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	t, err := apiclient.TenantOf(raw)
	if err != nil {
		return err
	}
	return tenantDetail(c.out, t)
}

func tenantsList(ctx context.Context, c *cmd, api *apiclient.Client, app string) error {
	raw, err := api.Call(ctx, "GET", apiclient.Query("/tenants", "app_id", app), nil)
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	var list struct {
		Tenants []apiclient.Tenant `json:"tenants"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	rows := make([][]string, len(list.Tenants))
	for i, t := range list.Tenants {
		rows[i] = tenantRow(t)
	}
	return table(c.out, tenantHeader, rows)
}
