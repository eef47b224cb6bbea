package domain

// Assembly is what an application is assembled from: platform, version,
// components, uploaded custom components, environment, replicas and model.
//
// The same type is a tenant's snapshot (its assembly column), copied from
// its app at deploy time so that editing the app later never changes what a
// rebuild of the tenant gives. The snapshot holds only the components, the
// custom components pinned by content hash and the model (the name,
// platform, version, environment and replicas are tenant columns), so those
// fields are left out of its JSON when empty.
type Assembly struct {
	Name       string   `json:"name,omitempty"`
	Platform   string   `json:"platform,omitempty"`
	Version    string   `json:"version,omitempty"`
	Components []string `json:"components"`
	// Custom are the owner's uploaded components. An app names them by ID
	// alone; a tenant's snapshot pins the rest.
	Custom      []CustomRef `json:"custom_components"`
	Environment string      `json:"environment,omitempty"`
	Replicas    int         `json:"replicas,omitempty"`
	Model       Model       `json:"model"`
}

// CustomRef names an uploaded custom component, and in a tenant's snapshot
// also its name, version, content hash and archive format.
type CustomRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Format  string `json:"format"`
}

// CustomIDs are the IDs of the assembly's custom components, in order.
func (a Assembly) CustomIDs() []string {
	ids := make([]string, 0, len(a.Custom))
	for _, c := range a.Custom {
		ids = append(ids, c.ID)
	}
	return ids
}

// CustomByID names custom components by their IDs alone, as an app does.
func CustomByID(ids []string) []CustomRef {
	if ids == nil {
		return nil
	}
	refs := make([]CustomRef, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, CustomRef{ID: id})
	}
	return refs
}
