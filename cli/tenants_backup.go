package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"appfactory/cli/apiclient"
)

func tenantBackup(ctx context.Context, c *cmd, api *apiclient.Client) error {
	raw, err := api.Call(ctx, "POST", "/tenants/"+apiclient.PathID(c.args[0])+"/backups", struct{}{})
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	var b apiclient.Backup
	if err := json.Unmarshal(raw, &b); err != nil {
		return err
	}
	return table(c.out, []string{"ID", "SIZE", "SHA256"}, [][]string{{b.ID, fmt.Sprint(b.Size), b.SHA256}})
}

func listBackups(ctx context.Context, api *apiclient.Client, tenant string) (json.RawMessage, []apiclient.Backup, error) {
	raw, err := api.Call(ctx, "GET", "/tenants/"+apiclient.PathID(tenant)+"/backups", nil)
	if err != nil {
		return nil, nil, err
	}
	var list struct {
		Backups []apiclient.Backup `json:"backups"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, nil, err
	}
	return raw, list.Backups, nil
}

func tenantBackups(ctx context.Context, c *cmd, api *apiclient.Client) error {
	raw, bs, err := listBackups(ctx, api, c.args[0])
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	return table(c.out, backupHeader, backupRows(bs))
}

// restore puts a backup back: the one named, or with --latest the newest.
func (c *cmd) restore(ctx context.Context, args []string, latest *bool) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if *latest && len(c.args) != 1 || !*latest && len(c.args) != 2 {
		return usagef("usage: appfactory tenants restore ID (--latest | BACKUP_ID) [-o json]")
	}
	api, err := client()
	if err != nil {
		return err
	}
	id := c.args[0]
	var backup string
	if *latest {
		_, bs, err := listBackups(ctx, api, id)
		if err != nil {
			return err
		}
		if len(bs) == 0 {
			return fmt.Errorf("tenant %s has no backup: make one with appfactory tenants backup %s", id, id)
		}
		backup = bs[0].ID // the API lists them newest first
	} else {
		backup = c.args[1]
	}
	return c.tenantAnswer(api.Call(ctx, "POST", "/tenants/"+apiclient.PathID(id)+"/restore", map[string]string{"backup_id": backup}))
}
