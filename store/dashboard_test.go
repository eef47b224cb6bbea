package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"appfactory/store"
)

var (
	seedStates = []string{"running", "passivated", "passivated", "passivated", "paused", "failed", "deleted", "pending"}
	seedEnvs   = []string{"trial", "demo", "production"}
	seedPlats  = []string{"contentapp", "nuxeo", "wordpress", "gitea"}
)

// seedTenants writes n tenants (and n/5 owners, each with apps) straight
// into the tables, the way a busy instance would hold them.
func seedTenants(t testing.TB, db *store.DB, n int) time.Time {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		owners := max(n/5, 1)
		for i := range owners {
			ts := store.TimeOf(base.Add(time.Duration(i) * time.Second))
			if _, err := tx.Exec(`INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, 'x', 'prospect', ?, ?)`,
				fmt.Sprintf("u%05d", i), fmt.Sprintf("owner%05d@example.com", i), fmt.Sprintf("Owner %d", i), ts, ts); err != nil {
				return err
			}
		}
		for i := range n {
			ts := store.TimeOf(base.Add(time.Duration(i) * time.Minute))
			owner := fmt.Sprintf("u%05d", i%owners)
			if _, err := tx.Exec(`INSERT INTO apps (id, owner_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				fmt.Sprintf("a%05d", i), owner, fmt.Sprintf("App number %d", i), ts, ts); err != nil {
				return err
			}
			var active any
			if i%3 == 0 {
				active = store.TimeOf(base.Add(time.Duration(i)*time.Minute + time.Hour))
			}
			if _, err := tx.Exec(`INSERT INTO tenants (id, app_id, owner_id, created_by, slug, title, platform, version, environment, replicas,
				desired_state, state, created_at, updated_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, '1.0', ?, 1, 'running', ?, ?, ?, ?)`,
				fmt.Sprintf("t%05d", i), fmt.Sprintf("a%05d", i), owner, owner, fmt.Sprintf("tenant-%05d", i), fmt.Sprintf("Docs %d", i),
				seedPlats[i%len(seedPlats)], seedEnvs[i%len(seedEnvs)], seedStates[i%len(seedStates)], ts, ts, active); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return base
}

// fullScans returns the plan lines that read the tenants table without an index.
func fullScans(t *testing.T, db *store.DB, query string, args []any) (bad []string, plan string) {
	t.Helper()
	rows, err := db.R().Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
		if (strings.HasPrefix(detail, "SCAN t") || strings.HasPrefix(detail, "SCAN tenants")) && !strings.Contains(detail, "INDEX") {
			bad = append(bad, detail)
		}
	}
	return bad, strings.Join(lines, "\n")
}

func TestTenantTableUsesIndexesAt10000Tenants(t *testing.T) {
	db := openTest(t)
	seedTenants(t, db, 10000)
	ctx := context.Background()
	queries := []struct {
		name string
		q    store.TenantQuery
		want int // rows in all
	}{
		{"default", store.TenantQuery{}, 8750},
		{"by slug asc", store.TenantQuery{Sort: store.SortSlug, Asc: true}, 8750},
		{"by state", store.TenantQuery{Sort: store.SortState}, 8750},
		{"by last activity", store.TenantQuery{Sort: store.SortLastActive}, 8750},
		{"state filter", store.TenantQuery{State: "running"}, 1250},
		{"state filter sorted by slug", store.TenantQuery{State: "failed", Sort: store.SortSlug}, 1250},
		{"environment and platform", store.TenantQuery{Environment: "demo", Platform: "nuxeo"}, -1},
		{"owner", store.TenantQuery{Owner: "Owner00042@example.com"}, 5},
		{"owner and state", store.TenantQuery{Owner: "owner00042@example.com", State: "running", Sort: store.SortLastActive}, -1},
		{"search slug", store.TenantQuery{Search: "tenant-0999"}, -1},
		{"search email", store.TenantQuery{Search: "owner00007@"}, -1},
		{"search nothing", store.TenantQuery{Search: "no such thing"}, 0},
		{"last page", store.TenantQuery{Offset: 8700}, 8750},
	}
	for _, tc := range queries {
		t.Run(tc.name, func(t *testing.T) {
			checks := []func() (string, []any){tc.q.TenantPageSQL, tc.q.TenantCountSQL}
			if tc.q.Search != "" {
				// A substring search has to look at every live tenant to count
				// its matches: BenchmarkTenantTableAt10000Tenants measures it.
				checks = checks[:1]
			}
			for _, sql := range checks {
				query, args := sql()
				if bad, plan := fullScans(t, db, query, args); len(bad) > 0 {
					t.Errorf("full scan of tenants in %q:\n%s", query, plan)
				}
			}
			rows, total, err := db.ListTenantRows(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want >= 0 && total != tc.want {
				t.Errorf("total = %d, want %d", total, tc.want)
			}
			if len(rows) > 50 {
				t.Errorf("page holds %d rows", len(rows))
			}
		})
	}
}

func TestProspectsAt10000Tenants(t *testing.T) {
	db := openTest(t)
	base := seedTenants(t, db, 10000)
	for _, sort := range []string{store.ProspectsEngaged, store.ProspectsRecent, store.ProspectsNew} {
		list, err := db.ListProspects(context.Background(), store.ProspectQuery{Since: base, Sort: sort})
		if err != nil || len(list) != 100 {
			t.Fatalf("%s: %d prospects, %v", sort, len(list), err)
		}
	}
}

// BenchmarkTenantTableAt10000Tenants measures the admin table's page and
// count queries (the plans are checked by the test above; the time is a
// figure, not an assertion, since it depends on the machine's load).
func BenchmarkTenantTableAt10000Tenants(b *testing.B) {
	db, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	seedTenants(b, db, 10000)
	for _, c := range []struct {
		name string
		q    store.TenantQuery
	}{
		{"first page", store.TenantQuery{}},
		{"state filter", store.TenantQuery{State: "running"}},
		{"search", store.TenantQuery{Search: "tenant-0999"}},
		{"last page", store.TenantQuery{Offset: 8700}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := db.ListTenantRows(context.Background(), c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProspectsAt10000Tenants measures the sales ranking of 2,000 prospects.
func BenchmarkProspectsAt10000Tenants(b *testing.B) {
	db, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	base := seedTenants(b, db, 10000)
	for _, sort := range []string{store.ProspectsEngaged, store.ProspectsRecent, store.ProspectsNew} {
		b.Run(sort, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.ListProspects(context.Background(), store.ProspectQuery{Since: base, Sort: sort}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTenantTableFiltersSortsAndPages(t *testing.T) {
	db := openTest(t)
	seedTenants(t, db, 200)
	ctx := context.Background()
	t.Run("sorted by slug, both ways", func(t *testing.T) {
		asc, _, err := db.ListTenantRows(ctx, store.TenantQuery{Sort: store.SortSlug, Asc: true, Limit: 3})
		if err != nil || len(asc) != 3 || asc[0].Slug != "tenant-00000" || asc[1].Slug != "tenant-00001" {
			t.Fatalf("asc: %+v %v", asc, err)
		}
		desc, _, _ := db.ListTenantRows(ctx, store.TenantQuery{Sort: store.SortSlug, Limit: 1})
		if desc[0].Slug != "tenant-00199" {
			t.Errorf("desc first = %s", desc[0].Slug)
		}
	})
	t.Run("pages do not overlap", func(t *testing.T) {
		seen := map[string]bool{}
		for off := 0; off < 200; off += 40 {
			rows, total, err := db.ListTenantRows(ctx, store.TenantQuery{Limit: 40, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			if total != 175 {
				t.Fatalf("total %d", total)
			}
			for _, r := range rows {
				if seen[r.ID] {
					t.Fatalf("%s on two pages", r.ID)
				}
				seen[r.ID] = true
			}
		}
		if len(seen) != 175 {
			t.Errorf("paged through %d rows, want 175", len(seen))
		}
	})
	t.Run("search is case-insensitive and literal", func(t *testing.T) {
		rows, total, _ := db.ListTenantRows(ctx, store.TenantQuery{Search: "APP NUMBER 17"})
		if total == 0 || rows[0].AppName == "" || rows[0].OwnerEmail == "" {
			t.Fatalf("search by app name: %d %+v", total, rows)
		}
		if _, total, err := db.ListTenantRows(ctx, store.TenantQuery{Search: "%"}); err != nil || total != 0 {
			t.Errorf("%% matched %d rows (%v)", total, err)
		}
	})
	t.Run("deleted only when asked", func(t *testing.T) {
		rows, total, _ := db.ListTenantRows(ctx, store.TenantQuery{State: "deleted"})
		if total != 25 || rows[0].State != "deleted" {
			t.Errorf("deleted: %d", total)
		}
	})
	t.Run("counts and options", func(t *testing.T) {
		counts, err := db.TenantStateCounts(ctx)
		if err != nil || counts["passivated"] != 75 || counts["running"] != 25 {
			t.Errorf("counts %v %v", counts, err)
		}
		opts, err := db.ListTenantFilterOptions(ctx)
		if err != nil || len(opts.Environments) != 3 || len(opts.Platforms) != 4 {
			t.Errorf("options %+v %v", opts, err)
		}
		load, err := db.RunningByEnvironment(ctx)
		if err != nil || len(load) == 0 {
			t.Fatalf("load %+v %v", load, err)
		}
		n := 0
		for _, l := range load {
			n += l.Tenants
		}
		if n != 50 {
			t.Errorf("running and paused tenants = %d, want 50", n)
		}
	})
}
