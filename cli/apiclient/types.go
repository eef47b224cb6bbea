package apiclient

import (
	"encoding/json"
	"time"
)

// Me is the user of the token.
type Me struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// Tenant is a deployment as the API describes it.
type Tenant struct {
	ID           string     `json:"id"`
	Slug         string     `json:"slug"`
	AppID        string     `json:"app_id"`
	Title        string     `json:"title"`
	State        string     `json:"state"`
	DesiredState string     `json:"desired_state"`
	StateMessage string     `json:"state_message"`
	Message      string     `json:"message"`
	URL          string     `json:"url"`
	Platform     string     `json:"platform"`
	Version      string     `json:"version"`
	Environment  string     `json:"environment"`
	Replicas     int        `json:"replicas"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	Actions      []string   `json:"actions"`
}

// TenantOf reads a tenant from an answer that is one, or holds one under
// "tenant" (restore, rollback).
func TenantOf(raw json.RawMessage) (Tenant, error) {
	var w struct {
		Tenant *Tenant `json:"tenant"`
	}
	if err := json.Unmarshal(raw, &w); err == nil && w.Tenant != nil {
		return *w.Tenant, nil
	}
	var t Tenant
	err := json.Unmarshal(raw, &t)
	return t, err
}

// App is an application as the API describes it.
type App struct {
	ID          string    `json:"id"`
	OwnerID     string    `json:"owner_id"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Revision    int       `json:"revision"`
	Platform    string    `json:"platform"`
	Version     string    `json:"version"`
	Components  []string  `json:"components"`
	Environment string    `json:"environment"`
	Replicas    int       `json:"replicas"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Event is an event of a tenant (tenant_id is set in the event stream).
type Event struct {
	ID       int64     `json:"id"`
	TenantID string    `json:"tenant_id"`
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Message  string    `json:"message"`
}

// Backup is a backup of a tenant's data.
type Backup struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Platform  string    `json:"platform"`
	Version   string    `json:"version"`
	Kind      string    `json:"kind"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}
