package views

// BackupsView is the Backups panel of a deployment's page.
type BackupsView struct {
	TenantID string
	CSRF     string
	// CanAct shows Back up now, Restore and Delete; CanDownload the
	// Download links (owner and staff).
	CanAct      bool
	CanDownload bool
	Rows        []BackupRow
	// Pending says which restore waits for the deployment's next pass;
	// the panel polls itself until it is done.
	Pending string
	// Rollback, when set, offers going back to the version before the last upgrade.
	Rollback *RollbackView
	// Message reports the outcome of the last action (an error, or done).
	Message string
	Failed  bool
}

// BackupRow is one backup in the panel.
type BackupRow struct {
	ID      string
	Kind    string
	Version string
	Size    string
	Created string
	SHA256  string
}

// RollbackView is the upgrade a rollback undoes.
type RollbackView struct {
	From, To string
}

// URL is the panel's own address (for htmx).
func (b BackupsView) URL() string { return "/tenants/" + b.TenantID + "/backups" }

// ShortSum is the first characters of a checksum.
func (r BackupRow) ShortSum() string {
	if len(r.SHA256) > 12 {
		return r.SHA256[:12]
	}
	return r.SHA256
}
