package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// UsedSubnets lists the subnets held by tenants not yet cleaned up.
func (db *DB) UsedSubnets(ctx context.Context) ([]string, error) {
	var out []string
	err := db.r.SelectContext(ctx, &out, `SELECT subnet FROM tenants WHERE subnet != '' AND state != 'deleted'`)
	if err != nil {
		return nil, fmt.Errorf("used subnets: %w", err)
	}
	return out, nil
}

// ClaimSubnet gives a tenant a subnet unless it already has one, and returns
// the tenant's subnet. pick chooses among the free ones given the used set;
// it runs inside the write transaction, so two claims never pick the same.
func (db *DB) ClaimSubnet(ctx context.Context, id string, pick func(used map[string]bool) (string, error)) (string, error) {
	var subnet string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &subnet, `SELECT subnet FROM tenants WHERE id = ?`, id); err != nil {
			return NotFound(err, "Deployment")
		}
		if subnet != "" {
			return nil
		}
		var list []string
		if err := tx.SelectContext(ctx, &list, `SELECT subnet FROM tenants WHERE subnet != '' AND state != 'deleted'`); err != nil {
			return fmt.Errorf("used subnets: %w", err)
		}
		used := make(map[string]bool, len(list))
		for _, s := range list {
			used[s] = true
		}
		s, err := pick(used)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET subnet = ? WHERE id = ?`, s, id); err != nil {
			return fmt.Errorf("claim subnet: %w", err)
		}
		subnet = s
		return nil
	})
	return subnet, err
}

// ReleaseSubnet forgets a tenant's subnet (after the engine refused it), so
// the next claim picks another.
func (db *DB) ReleaseSubnet(ctx context.Context, id string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE tenants SET subnet = '' WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("release subnet: %w", err)
	}
	return nil
}
