package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"appfactory/cli/apiclient"
)

// table writes rows under a header, columns aligned.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func tenantRow(t apiclient.Tenant) []string {
	return []string{t.ID, t.Slug, t.State, t.Platform + " " + t.Version, t.Environment, orDash(t.URL)}
}

var tenantHeader = []string{"ID", "SLUG", "STATE", "PLATFORM", "ENVIRONMENT", "URL"}

// tenantDetail writes one tenant as fields, one a line.
func tenantDetail(w io.Writer, t apiclient.Tenant) error {
	msg := t.StateMessage
	if msg == "" {
		msg = t.Message
	}
	expires := "-"
	if t.ExpiresAt != nil {
		expires = timeText(*t.ExpiresAt)
	}
	rows := [][]string{
		{"id", t.ID}, {"slug", t.Slug}, {"title", orDash(t.Title)}, {"app", orDash(t.AppID)},
		{"state", t.State}, {"desired", orDash(t.DesiredState)}, {"message", orDash(msg)},
		{"platform", strings.TrimSpace(t.Platform + " " + t.Version)}, {"environment", orDash(t.Environment)},
		{"url", orDash(t.URL)}, {"created", timeText(t.CreatedAt)}, {"expires", expires},
		{"actions", orDash(strings.Join(t.Actions, ", "))},
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func eventLine(w io.Writer, e apiclient.Event, withTenant bool) {
	if withTenant {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.ID, timeText(e.At), e.TenantID, e.Kind, e.Message)
		return
	}
	fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", e.ID, timeText(e.At), e.Kind, e.Message)
}

func backupRows(bs []apiclient.Backup) [][]string {
	rows := make([][]string, len(bs))
	for i, b := range bs {
		rows[i] = []string{b.ID, b.Kind, fmt.Sprint(b.Size), b.SHA256, b.Platform + " " + b.Version, timeText(b.CreatedAt)}
	}
	return rows
}

var backupHeader = []string{"ID", "KIND", "SIZE", "SHA256", "PLATFORM", "CREATED"}
